variable "maintenance_window" {
  type = string
}

# One backup of each server, started together and waited for together; a new
# maintenance_window backs every server up again.
resource "vpsbackup_backup_fleet" "before_maintenance" {
  server_ids  = [12345, 12346]
  description = "Before maintenance"
  triggers    = [var.maintenance_window]

  timeouts {
    create = "2h"
  }
}
