// Command pulumi-language-python starts Pulumi's Go Python language host of
// v3.79.0 (python-host/pulumi-language-python beside this wrapper) the way
// the engine of its time did.
//
// Engines up to v3.79.0 started a language host with one flag per runtime
// option of Pulumi.yaml (`-virtualenv=venv`), then `-root=<project
// directory>`, then the engine's address (sdk/v3@v3.79.0
// go/common/resource/plugin/langruntime_plugin.go, buildArgsForNewPlugin).
// Today's engine passes only the address (pkg/v3@v3.276.0
// resource/plugin/langruntime_plugin.go, buildArgsForNewPlugin) and sends the
// options in each request, which the old host does not read. It starts the
// host in the program's directory (the project directory, or its `main:`
// directory: pkg/v3@v3.276.0 engine/project.go getPwdMain), so this wrapper
// finds Pulumi.yaml from there upwards, as the engine does, and adds the
// flags the old engine would have given.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python (v3.79.0 wrapper): %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return err
	}
	// The real host looks for pulumi-language-python-exec next to itself.
	host := filepath.Join(filepath.Dir(self), "python-host", "pulumi-language-python")

	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	var flags []string
	path, err := workspace.DetectProjectPathFrom(cwd)
	if err == nil && path != "" {
		project, err := workspace.LoadProject(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		options := project.Runtime.Options()
		keys := make([]string, 0, len(options))
		for k := range options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flags = append(flags, fmt.Sprintf("-%s=%v", k, options[k]))
		}
		flags = append(flags, "-root="+filepath.Dir(path))
	}
	args := append([]string{host}, flags...)
	args = append(args, os.Args[1:]...)
	return syscall.Exec(host, args, os.Environ())
}
