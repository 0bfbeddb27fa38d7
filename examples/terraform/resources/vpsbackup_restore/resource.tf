variable "restore_from_backup_id" {
  type = number
}

# Overwrites server 12345 with that backup; a new backup id restores again.
resource "vpsbackup_restore" "rollback" {
  server_id = 12345
  backup_id = var.restore_from_backup_id

  timeouts {
    create = "30m"
  }
}
