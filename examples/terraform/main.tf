# A whole configuration: a backup before each release, a rotation of the last
# three release backups, and what VPS.org lists. examples/terraform/README.md
# runs it against the local fake API.

terraform {
  required_providers {
    vpsbackup = {
      source  = "vpsbackup/vpsbackup"
      version = "~> 0.1"
    }
  }
}

variable "api_url" {
  description = "The API's base URL (the fake's, from `make fake`; VPS.org's is https://admin.vps.org/api/v1)."
  type        = string
  default     = "http://127.0.0.1:8787/api/v1"
}

variable "api_token" {
  description = "The VPS.org API token (the fake's demo token by default)."
  type        = string
  sensitive   = true
  default     = "vps_demo_token"
}

variable "server_id" {
  description = "The server to back up."
  type        = number
  default     = 12345
}

variable "app_version" {
  description = "The release being deployed: a new one takes new backups."
  type        = string
  default     = "1.0.0"
}

provider "vpsbackup" {
  api_url   = var.api_url
  api_token = var.api_token
}

# The backup the release depends on. OpenTofu replaces a resource by destroying
# it first; create_before_destroy keeps the old backup until the new one exists.
resource "vpsbackup_backup" "pre_deploy" {
  server_id   = var.server_id
  description = "Before ${var.app_version}"
  triggers    = [var.app_version]

  lifecycle {
    create_before_destroy = true
  }

  timeouts {
    create = "60m"
  }
}

# The last three releases' backups: each new app_version adds one and deletes
# the oldest of the rotation's own beyond three.
resource "vpsbackup_backup_rotation" "releases" {
  server_id   = var.server_id
  keep        = 3
  description = "Release backup"
  triggers    = { version = var.app_version }
}

# Read after the backups above are made (depends_on), so both are listed.
data "vpsbackup_backups" "manual" {
  server_id   = var.server_id
  backup_type = "manual"
  depends_on  = [vpsbackup_backup.pre_deploy, vpsbackup_backup_rotation.releases]
}

data "vpsbackup_latest_backup" "newest_manual" {
  server_id   = var.server_id
  backup_type = "manual"
  depends_on  = [vpsbackup_backup.pre_deploy, vpsbackup_backup_rotation.releases]
}

output "pre_deploy_backup_id" {
  value = vpsbackup_backup.pre_deploy.backup_id
}

output "pre_deploy_status" {
  value = vpsbackup_backup.pre_deploy.status
}

output "rotation_backup_ids" {
  value = vpsbackup_backup_rotation.releases.backup_ids
}

output "manual_backup_ids" {
  value = [for b in data.vpsbackup_backups.manual.backups : b.id]
}

output "newest_manual_backup_id" {
  value = data.vpsbackup_latest_backup.newest_manual.id
}
