variable "app_version" {
  type = string
}

# A fresh backup of server 12345 for each release. With create_before_destroy,
# the previous release's backup is deleted only once the new one has completed.
resource "vpsbackup_backup" "before_release" {
  server_id   = 12345
  description = "Before ${var.app_version}"
  triggers    = [var.app_version]

  lifecycle {
    create_before_destroy = true
  }

  timeouts {
    create = "90m"
  }
}
