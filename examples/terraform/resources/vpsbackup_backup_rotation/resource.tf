variable "app_version" {
  type = string
}

# The last three release backups of server 12345: each new app_version adds
# one and deletes the oldest of the rotation's own beyond three.
resource "vpsbackup_backup_rotation" "releases" {
  server_id   = 12345
  keep        = 3
  description = "Release backup"
  triggers    = { version = var.app_version }
}
