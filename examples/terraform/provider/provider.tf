terraform {
  required_providers {
    vpsbackup = {
      source = "vpsbackup/vpsbackup"
    }
  }
}

variable "vps_api_token" {
  type      = string
  sensitive = true
}

# Left out, api_token falls back to VPS_API_TOKEN and api_url to VPS_API_URL.
provider "vpsbackup" {
  api_token = var.vps_api_token
}
