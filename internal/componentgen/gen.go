// Package componentgen writes the stubs of component interfaces that
// `glyph gen` generates: for each Go interface, a remote stub that calls
// through a component.Binding and a local stub that calls an
// implementation in the same process, registered with
// component.RegisterStubs, and a compile-time check that fails the build,
// saying to regenerate, once the interface no longer matches them.
//
// It reads the package's source with go/parser only: the generated code
// repeats the parameter and result types as they are written in the
// interface, so no type checking is needed.
package componentgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
)

// DefaultOutput is the file Generate's output goes to by default.
const DefaultOutput = "glyph_gen.go"

// StaleCheck is the identifier in the compile-time check of a generated
// file: a build that fails on it means the interface changed since the
// stubs were generated.
const StaleCheck = "glyphStubIsStaleRegenerateWithGlyphGen"

// Generate returns the source of the stubs of the interfaces named in
// names, declared in the Go package in dir (its non-test files, except
// the generated output). It fails when an interface is missing, embeds
// another, or has a method that is not func(context.Context, ...)
// ([T,] error).
func Generate(dir string, names []string, output string) ([]byte, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("glyph gen: name the interfaces to generate stubs for")
	}
	fset := token.NewFileSet()
	files, pkg, err := parseDir(fset, dir, output)
	if err != nil {
		return nil, err
	}
	g := &generator{fset: fset, pkg: pkg, imports: map[string]string{"context": "context"}}
	for _, name := range names {
		spec, file := findInterface(files, name)
		if spec == nil {
			return nil, fmt.Errorf("glyph gen: no interface %s in package %s", name, pkg)
		}
		if err := g.iface(name, spec.Type.(*ast.InterfaceType), file); err != nil {
			return nil, err
		}
	}
	return g.source()
}

func parseDir(fset *token.FileSet, dir, output string) ([]*ast.File, string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, "", err
	}
	sort.Strings(paths)
	var files []*ast.File
	pkg := ""
	for _, p := range paths {
		base := filepath.Base(p)
		if strings.HasSuffix(base, "_test.go") || base == output {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, "", err
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, "", fmt.Errorf("glyph gen: %v", err)
		}
		if pkg == "" {
			pkg = f.Name.Name
		}
		if f.Name.Name == pkg {
			files = append(files, f)
		}
	}
	if pkg == "" {
		return nil, "", fmt.Errorf("glyph gen: no Go files in %s", dir)
	}
	return files, pkg, nil
}

func findInterface(files []*ast.File, name string) (*ast.TypeSpec, *ast.File) {
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				if _, ok := ts.Type.(*ast.InterfaceType); ok && ts.Name.Name == name && ts.TypeParams == nil {
					return ts, f
				}
			}
		}
	}
	return nil, nil
}

type generator struct {
	fset    *token.FileSet
	pkg     string
	imports map[string]string // local name → path
	body    bytes.Buffer
}

// method is one interface method as the stubs need it.
type method struct {
	name     string   // Go name
	wire     string   // wire name
	params   []string // types after the context
	kinds    []string // per param: "" (a value), "func" (a callback), "Seq" or "Seq2" (a stream)
	result   string   // the value result's type, "" when none
	seq      string   // "Seq" or "Seq2" when the result is an iter sequence
	seqElem  string   // its item type
	typeDecl string   // the method's signature, for the stubs
}

func (g *generator) iface(name string, it *ast.InterfaceType, file *ast.File) error {
	var methods []method
	for _, f := range it.Methods.List {
		if len(f.Names) == 0 {
			return fmt.Errorf("glyph gen: %s embeds %s: list its methods instead", name, g.expr(f.Type))
		}
		ft, ok := f.Type.(*ast.FuncType)
		if !ok {
			return fmt.Errorf("glyph gen: %s: %s is not a method", name, f.Names[0].Name)
		}
		m, err := g.method(name, f.Names[0].Name, ft, file)
		if err != nil {
			return err
		}
		methods = append(methods, m)
	}
	g.write(name, methods)
	return nil
}

func (g *generator) method(iface, name string, ft *ast.FuncType, file *ast.File) (method, error) {
	m := method{name: name, wire: hyper.WireName(name)}
	var params, kinds []string
	if ft.Params != nil {
		for _, p := range ft.Params.List {
			n := max(len(p.Names), 1)
			if _, ok := p.Type.(*ast.Ellipsis); ok {
				return m, fmt.Errorf("glyph gen: %s.%s is variadic", iface, name)
			}
			for range n {
				params = append(params, g.typeOf(p.Type, file))
				kinds = append(kinds, g.kindOf(p.Type, file))
			}
		}
	}
	if len(params) == 0 || params[0] != "context.Context" {
		return m, fmt.Errorf("glyph gen: %s.%s must take a context.Context first", iface, name)
	}
	m.params, m.kinds = params[1:], kinds[1:]
	var results []string
	if ft.Results != nil {
		for _, r := range ft.Results.List {
			for range max(len(r.Names), 1) {
				results = append(results, g.typeOf(r.Type, file))
			}
		}
	}
	if len(results) == 0 || len(results) > 2 || results[len(results)-1] != "error" {
		return m, fmt.Errorf("glyph gen: %s.%s must return (error) or (T, error)", iface, name)
	}
	if len(results) == 2 {
		m.result = results[0]
		if ix, ok := ft.Results.List[0].Type.(*ast.IndexExpr); ok && g.isIter(ix.X, "Seq", file) {
			m.seq, m.seqElem = "Seq", g.typeOf(ix.Index, file)
		}
		if ix, ok := ft.Results.List[0].Type.(*ast.IndexListExpr); ok && g.isIter(ix.X, "Seq2", file) && len(ix.Indices) == 2 {
			m.seq, m.seqElem = "Seq2", g.typeOf(ix.Indices[0], file)
		}
	}
	var b strings.Builder
	b.WriteString("(ctx context.Context")
	for i, p := range m.params {
		fmt.Fprintf(&b, ", a%d %s", i, p)
	}
	b.WriteString(") ")
	if m.result != "" {
		fmt.Fprintf(&b, "(%s, error)", m.result)
	} else {
		b.WriteString("error")
	}
	m.typeDecl = b.String()
	return m, nil
}

// kindOf says how a local stub copies a parameter of type e: a callback
// ("func") is passed on, a stream ("Seq", "Seq2") has its items copied,
// any other value ("") is copied.
func (g *generator) kindOf(e ast.Expr, file *ast.File) string {
	switch x := e.(type) {
	case *ast.FuncType:
		return "func"
	case *ast.IndexExpr:
		if g.isIter(x.X, "Seq", file) {
			return "Seq"
		}
	case *ast.IndexListExpr:
		if g.isIter(x.X, "Seq2", file) {
			return "Seq2"
		}
	}
	return ""
}

// isIter reports whether x is iter.<name> in file.
func (g *generator) isIter(x ast.Expr, name string, file *ast.File) bool {
	sel, ok := x.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && importPath(file, id.Name) == "iter"
}

// typeOf returns a type expression's source, noting the imports it uses.
func (g *generator) typeOf(e ast.Expr, file *ast.File) string {
	ast.Inspect(e, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok {
			if p := importPath(file, id.Name); p != "" {
				g.imports[id.Name] = p
			}
		}
		return false
	})
	return g.expr(e)
}

func (g *generator) expr(e ast.Expr) string {
	var b bytes.Buffer
	format.Node(&b, g.fset, e)
	return b.String()
}

// importPath returns the path of the import that file names name, or "".
func importPath(file *ast.File, name string) string {
	for _, is := range file.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		local := ""
		if is.Name != nil {
			local = is.Name.Name
		} else {
			local = defaultName(p)
		}
		if local == name {
			return p
		}
	}
	return ""
}

// defaultName guesses the package name of an import path: its last
// element, or the one before a major version suffix ("/v2").
func defaultName(path string) string {
	parts := strings.Split(path, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2]
	}
	last = strings.TrimPrefix(last, "go-")
	return strings.ReplaceAll(last, "-", "_")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (g *generator) write(name string, methods []method) {
	remote, local := lowerFirst(name)+"RemoteStub", lowerFirst(name)+"LocalStub"
	w := &g.body
	fmt.Fprintf(w, "\nfunc init() {\n\tcomponent.RegisterStubs[%s](\n\t\tfunc(b *component.Binding) %s { return %s{b} },\n\t\tfunc(impl %s, l *component.Local) %s { return &%s{impl, l} })\n}\n", name, name, remote, name, name, local)
	fmt.Fprintf(w, "\n// These fail to compile when %s changed since glyph gen wrote this file:\n// regenerate it with glyph gen.\nvar (\n\t_ = %s[%s](%s{})\n\t_ = %s[%s](&%s{})\n)\n", name, StaleCheck, name, remote, StaleCheck, name, local)

	fmt.Fprintf(w, "\n// %s calls %s through a component.Binding.\ntype %s struct{ b *component.Binding }\n", remote, name, remote)
	for _, m := range methods {
		fmt.Fprintf(w, "\nfunc (s %s) %s%s {\n", remote, m.name, m.typeDecl)
		args := "nil"
		if len(m.params) > 0 {
			var as []string
			for i := range m.params {
				as = append(as, fmt.Sprintf("a%d", i))
			}
			args = "[]any{" + strings.Join(as, ", ") + "}"
		}
		switch {
		case m.seq != "":
			fmt.Fprintf(w, "\treturn component.%s[%s](s.b.Stream(ctx, %q, %s)), nil\n", m.seq, m.seqElem, m.wire, args)
		case m.result != "":
			fmt.Fprintf(w, "\tvar r %s\n\terr := s.b.Call(ctx, %q, %s, &r)\n\treturn r, err\n", m.result, m.wire, args)
		default:
			fmt.Fprintf(w, "\treturn s.b.Call(ctx, %q, %s, nil)\n", m.wire, args)
		}
		w.WriteString("}\n")
	}

	fmt.Fprintf(w, "\n// %s calls an implementation of %s in this process as a remote\n// caller would: arguments and results copied when l says so, errors of\n// the kinds a remote caller sees, headers and default deadlines applied.\ntype %s struct {\n\timpl %s\n\tl    *component.Local\n}\n", local, name, local, name)
	for _, m := range methods {
		op := name + "." + m.wire
		fmt.Fprintf(w, "\nfunc (s *%s) %s%s {\n", local, m.name, m.typeDecl)
		zero := "err"
		if m.result != "" {
			zero = "*new(" + m.result + "), err"
		}
		g.copyParams(m, op, zero)
		fmt.Fprintf(w, "\tctx, cancel := s.l.Context(ctx, %q)\n\tdefer cancel()\n", m.wire)
		var as []string
		for i := range m.params {
			as = append(as, fmt.Sprintf(", a%d", i))
		}
		call := fmt.Sprintf("s.impl.%s(ctx%s)", m.name, strings.Join(as, ""))
		switch {
		case m.result == "":
			fmt.Fprintf(w, "\treturn component.LocalError(%q, %s)\n", op, call)
		default:
			fmt.Fprintf(w, "\tr, err := %s\n\tif err != nil {\n\t\treturn *new(%s), component.LocalError(%q, err)\n\t}\n", call, m.result, op)
			switch m.seq {
			case "Seq":
				w.WriteString("\tif s.l.Copies {\n\t\tr = component.CopySeq(r)\n\t}\n\treturn r, nil\n")
			case "Seq2":
				fmt.Fprintf(w, "\tif s.l.Copies {\n\t\treturn component.CopySeq2(%q, r), nil\n\t}\n\treturn component.LocalSeq2(%q, r), nil\n", op, op)
			default:
				fmt.Fprintf(w, "\tif s.l.Copies {\n\t\tif r, err = component.Copy(r); err != nil {\n\t\t\treturn *new(%s), err\n\t\t}\n\t}\n\treturn r, nil\n", m.result)
			}
		}
		w.WriteString("}\n")
	}
}

// copyParams writes the copies of a local stub's arguments: values with
// component.Copy, the items of streams as they are read, callbacks not
// at all (they are references).
func (g *generator) copyParams(m method, op, zero string) {
	var lines []string
	for i, k := range m.kinds {
		switch k {
		case "":
			lines = append(lines, fmt.Sprintf("\t\tif a%d, err = component.Copy(a%d); err != nil {\n\t\t\treturn %s\n\t\t}\n", i, i, zero))
		case "Seq":
			lines = append(lines, fmt.Sprintf("\t\ta%d = component.CopySeq(a%d)\n", i, i))
		case "Seq2":
			lines = append(lines, fmt.Sprintf("\t\ta%d = component.CopySeq2(%q, a%d)\n", i, op, i))
		}
	}
	if len(lines) == 0 {
		return
	}
	w := &g.body
	w.WriteString("\tif s.l.Copies {\n")
	if strings.Contains(strings.Join(lines, ""), "err =") {
		w.WriteString("\t\tvar err error\n")
	}
	for _, l := range lines {
		w.WriteString(l)
	}
	w.WriteString("\t}\n")
}

func (g *generator) source() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by glyph gen; DO NOT EDIT.\n\npackage %s\n\nimport (\n", g.pkg)
	g.imports["component"] = "github.com/glyph-ipc/glyph/component"
	names := make([]string, 0, len(g.imports))
	for n := range g.imports {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := g.imports[names[i]], g.imports[names[j]]
		if isStd(a) != isStd(b) {
			return isStd(a)
		}
		return a < b
	})
	for i, n := range names {
		p := g.imports[n]
		if i > 0 && isStd(g.imports[names[i-1]]) && !isStd(p) {
			b.WriteByte('\n')
		}
		if defaultName(p) == n {
			fmt.Fprintf(&b, "\t%q\n", p)
		} else {
			fmt.Fprintf(&b, "\t%s %q\n", n, p)
		}
	}
	b.WriteString(")\n")
	b.Write(g.body.Bytes())
	fmt.Fprintf(&b, "\n// %s takes a stub as the interface T: it compiles only while the\n// stub has T's methods.\nfunc %s[T any](T) bool { return true }\n", StaleCheck, StaleCheck)
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("glyph gen: formatting the output: %v\n%s", err, b.Bytes())
	}
	return src, nil
}

// isStd reports whether an import path is the standard library's: its
// first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
