# The newest completed backup of server 12345, manual or automatic.
data "vpsbackup_latest_backup" "newest" {
  server_id = 12345
}

output "newest_backup" {
  value = "${data.vpsbackup_latest_backup.newest.id} (${data.vpsbackup_latest_backup.newest.created_at})"
}
