package main

// The language-host requests this generator answers besides GeneratePackage:
// GenerateProgram (`pulumi import`, `pulumi convert`), GenerateProject
// (`pulumi convert`) and Link (`pulumi package add`). langhost.py passes the
// engine's request through unchanged, as protobuf bytes on stdin, and returns
// the response this writes to stdout; an error goes to stderr with exit 1.
//
// Each does what Pulumi's Python language host does for the request (read
// from sdk/python/cmd/pulumi-language-python/main.go at v3.259.0, the closest
// version stored): bind the PCL with the engine's schema loader, preferring
// output-versioned invokes and, unless the request is strict, with the
// non-strict bind options, then run the Python program generator; for Link,
// find each package's Python distribution name in its schema and let the
// project's Python toolchain record the SDK's path.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	"google.golang.org/protobuf/proto"

	"github.com/pulumi/pulumi/pkg/v3/codegen/hcl2/syntax"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// serve reads one request of the given kind from in and writes its response to out.
// language picks the program generator (python, the default, or nodejs); project
// and link requests are Python's only.
func serve(kind, language string, in io.Reader, out io.Writer) error {
	raw, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading the request from stdin: %w", err)
	}
	var resp proto.Message
	switch kind {
	case "program":
		var req pulumirpc.GenerateProgramRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			return fmt.Errorf("decoding the GenerateProgram request: %w", err)
		}
		resp, err = generateProgram(&req, language)
	case "project":
		var req pulumirpc.GenerateProjectRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			return fmt.Errorf("decoding the GenerateProject request: %w", err)
		}
		resp, err = generateProject(&req)
	case "link":
		var req pulumirpc.LinkRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			return fmt.Errorf("decoding the Link request: %w", err)
		}
		resp, err = link(context.Background(), &req)
	default:
		return fmt.Errorf("-request is %q; this generator answers program, project and link", kind)
	}
	if err != nil {
		return err
	}
	data, err := proto.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}

func bindOptions(strict bool) []pcl.BindOption {
	options := []pcl.BindOption{pcl.PreferOutputVersionedInvokes}
	if !strict {
		options = append(options, pcl.NonStrictBindOptions()...)
	}
	return options
}

func generateProgram(
	req *pulumirpc.GenerateProgramRequest, language string,
) (*pulumirpc.GenerateProgramResponse, error) {
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	names := make([]string, 0, len(req.Source))
	for name := range req.Source {
		names = append(names, name)
	}
	sort.Strings(names)
	parser := syntax.NewParser()
	for _, name := range names {
		if err := parser.ParseFile(strings.NewReader(req.Source[name]), name); err != nil {
			return nil, err
		}
		if parser.Diagnostics.HasErrors() {
			return &pulumirpc.GenerateProgramResponse{
				Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(parser.Diagnostics),
			}, nil
		}
	}

	program, diags, err := pcl.BindProgram(parser.Files, schema.NewCachedLoader(loader),
		bindOptions(req.Strict)...)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GenerateProgramResponse{
			Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags),
		}, nil
	}
	if program == nil {
		return nil, errors.New("binding the program gave no program and no error")
	}
	generate := python.GenerateProgram
	switch language {
	case "", "python":
	case "nodejs":
		generate = nodejs.GenerateProgram
	default:
		return nil, fmt.Errorf("-language is %q; programs are generated in python or nodejs", language)
	}
	files, genDiags, err := generate(program)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GenerateProgramResponse{
		Source:      files,
		Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(append(diags, genDiags...)),
	}, nil
}

func generateProject(req *pulumirpc.GenerateProjectRequest) (*pulumirpc.GenerateProjectResponse, error) {
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	program, diags, err := pcl.BindDirectory(req.SourceDirectory, schema.NewCachedLoader(loader),
		bindOptions(req.Strict)...)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GenerateProjectResponse{
			Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags),
		}, nil
	}
	var project workspace.Project
	if err := json.Unmarshal([]byte(req.Project), &project); err != nil {
		return nil, fmt.Errorf("the project in the request is not valid JSON: %w", err)
	}
	// No typechecker and no toolchain flag: this host is started without them.
	if err := python.GenerateProject(
		req.TargetDirectory, project, program, req.LocalDependencies, "", "",
	); err != nil {
		return nil, err
	}
	return &pulumirpc.GenerateProjectResponse{
		Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags),
	}, nil
}

// pythonOptions reads Pulumi.yaml's runtime options as the Python host does.
func pythonOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	var options map[string]any
	if info.Options != nil {
		options = info.Options.AsMap()
	}
	if value, ok := options["virtualenv"]; ok {
		venv, ok := value.(string)
		if !ok {
			return opts, errors.New("the runtime option virtualenv in Pulumi.yaml must be a string")
		}
		opts.Virtualenv = venv
	}
	if value, ok := options["toolchain"]; ok {
		switch value {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf(
				"the runtime option toolchain in Pulumi.yaml is %v; use pip, poetry or uv", value)
		}
	}
	return opts, nil
}

func link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	if req.Info == nil {
		return nil, errors.New("the Link request names no program")
	}
	opts, err := pythonOptions(req.Info)
	if err != nil {
		return nil, err
	}
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	// Python distribution name -> the SDK's path, relative to the project root.
	packages := map[string]string{}
	var imports strings.Builder
	for _, dep := range req.Packages {
		if dep.Package == nil {
			continue
		}
		if dep.Package.Name == "pulumi" {
			packages["pulumi"] = dep.Path
			continue
		}
		descriptor := &schema.PackageDescriptor{
			Name:        dep.Package.Name,
			DownloadURL: dep.Package.Server,
		}
		if v, err := semver.ParseTolerant(dep.Package.Version); err == nil {
			descriptor.Version = &v
		}
		if p := dep.Package.Parameterization; p != nil {
			descriptor.Parameterization = &schema.ParameterizationDescriptor{Name: p.Name, Value: p.Value}
			if v, err := semver.ParseTolerant(p.Version); err == nil {
				descriptor.Parameterization.Version = v
			}
		}
		ref, err := schema.LoadPackageReferenceV2(ctx, loader, descriptor)
		if err != nil {
			return nil, err
		}
		pkg, err := ref.Definition()
		if err != nil {
			return nil, err
		}
		if err := pkg.ImportLanguages(map[string]schema.Language{"python": python.Importer}); err != nil {
			return nil, err
		}
		var distribution, module string
		if info, ok := pkg.Language["python"].(python.PackageInfo); ok && info.PackageName != "" {
			distribution, module = info.PackageName, info.PackageName
		}
		if module == "" {
			module = strings.ReplaceAll(ref.Name(), "-", "_")
		}
		if distribution == "" {
			distribution = python.PyPack(ref.Namespace(), ref.Name())
		}
		packages[distribution] = dep.Path
		fmt.Fprintf(&imports, "  import %s as %s\n", distribution, module)
	}
	heading := "You can import the SDK in your Python code with:\n\n"
	if len(req.Packages) > 1 {
		heading = "You can import the SDKs in your Python code with:\n\n"
	}

	// A project not on pip that has no pyproject.toml yet but a requirements.txt
	// (no `pulumi install` since `pulumi new`) gets the path in requirements.txt,
	// which that install then moves into pyproject.toml.
	if opts.Toolchain != toolchain.Pip {
		dir := req.Info.ProgramDirectory
		if _, err := os.Stat(filepath.Join(dir, "pyproject.toml")); os.IsNotExist(err) {
			if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); os.IsNotExist(err) {
				return nil, fmt.Errorf("no pyproject.toml or requirements.txt found in %s", dir)
			}
			opts.Toolchain = toolchain.Pip
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.LinkPackages(ctx, packages); err != nil {
		return nil, fmt.Errorf("linking packages: %w", err)
	}
	return &pulumirpc.LinkResponse{ImportInstructions: heading + imports.String()}, nil
}
