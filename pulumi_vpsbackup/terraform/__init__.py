"""The vpsbackup provider for OpenTofu and Terraform (`terraform-provider-vpsbackup`).

A third way in to the same core, beside the dynamic provider and the native
Pulumi plugin: `schema.py` derives the Terraform schema from the plugin's
(itself generated from each resource's declaration), `provider.py` maps each
protocol call onto the plugin's `NativeProvider`, `cty.py` carries values on
the wire, and `server.py` is the executable (go-plugin's handshake, TLS, the
tfplugin6 gRPC service, whose stubs tools/tfproto.sh generates at build time).
Importing this package imports no stub; `server` does.
"""
