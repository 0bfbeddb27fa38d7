# The completed manual backups of server 12345, newest first.
data "vpsbackup_backups" "manual" {
  server_id   = 12345
  backup_type = "manual"
  status      = "completed"
}

output "manual_backup_ids" {
  value = [for b in data.vpsbackup_backups.manual.backups : b.id]
}
