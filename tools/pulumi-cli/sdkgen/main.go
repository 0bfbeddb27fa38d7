// Command pulumi-vpsbackup-sdkgen writes a Pulumi package SDK from a schema with
// Pulumi's own code generators (pkg/v3/codegen/python, .../nodejs and .../go,
// from the module version that go.mod beside this folder pins).
//
// It is the code-generation half of the stand-in language hosts (langhost.py):
// their GeneratePackage handler runs it, so `pulumi package gen-sdk SCHEMA
// --language python|nodejs|go` works without Pulumi's Go language hosts, which the
// module proxy does not serve. It does what those hosts' GeneratePackage does:
// bind the schema (other packages it names come from the engine's schema loader
// at -loader), generate, and write the files under -out.
//
//	pulumi-vpsbackup-sdkgen -language python|nodejs|go -out DIR -loader HOST:PORT [-local] <schema.json
//
// With -request program|project|link it answers one GenerateProgram,
// GenerateProject or Link request instead (see requests.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	language := flag.String("language", "", "python, nodejs or go")
	out := flag.String("out", "", "the directory to write the SDK into (created)")
	loaderTarget := flag.String("loader", "", "address of the engine's schema loader")
	local := flag.Bool("local", false, "generate an SDK for local use (nodejs)")
	request := flag.String("request", "", "answer a language-host request read from stdin: program, project or link")
	flag.Parse()
	if *request != "" {
		if err := serve(*request, *language, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*language, *out, *loaderTarget, *local, os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-vpsbackup-sdkgen: %v\n", err)
		os.Exit(1)
	}
}

func run(language, out, loaderTarget string, local bool, in io.Reader) error {
	if out == "" {
		return fmt.Errorf("-out is required: the directory to write the SDK into")
	}
	if loaderTarget == "" {
		return fmt.Errorf("-loader is required: the address of the engine's schema loader")
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading the schema from stdin: %w", err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("the schema is not valid JSON: %w", err)
	}
	loader, err := schema.NewLoaderClient(loaderTarget)
	if err != nil {
		return err
	}
	defer loader.Close()

	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("the schema has errors: %v", diags)
	}

	var files map[string][]byte
	switch language {
	case "python":
		files, err = python.GeneratePackage("pulumi-language-python", pkg, nil, loader)
	case "nodejs":
		files, err = nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, local, loader)
	case "go":
		// As Pulumi's Go host (sdk/go/pulumi-language-go, GeneratePackage): no go.mod
		// unless the schema's meta says supportPack.
		files, err = gogen.GeneratePackage("pulumi-language-go", pkg, nil)
	default:
		return fmt.Errorf("-language is %q; this generator knows python, nodejs and go", language)
	}
	if err != nil {
		return fmt.Errorf("generating the %s SDK: %w", language, err)
	}
	for name, data := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
