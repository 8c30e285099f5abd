package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/cmd/glyph/internal/literal"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// remoteFlags are the flags of the commands that talk to a server.
type remoteFlags struct {
	full     bool
	json     bool
	timeout  time.Duration
	headers  []string // "Name: value", as given
	caCert   string   // a PEM file of the CAs to trust instead of the system's
	cert     string   // a PEM file of the client's certificate chain, for mutual TLS
	key      string   // a PEM file of its private key
	insecure bool
}

func (f *remoteFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.full, "full", false, "print long strings and byte strings in full")
	fs.BoolVar(&f.json, "json", false, "print the answer as JSON, on one line (the mapping of package glyphjson)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long (0: never)")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "send the header 'Name: value' with every HTTP request, WebSocket handshake and peer call (repeatable)")
	fs.StringVar(&f.caCert, "cacert", "", "trust the CA certificates in this PEM file, instead of the system's, for https://, wss:// and tls://")
	fs.StringVar(&f.cert, "cert", "", "present the client certificate (chain) in this PEM file to servers that ask for one (mutual TLS); needs --key")
	fs.StringVar(&f.key, "key", "", "the private key of --cert, a PEM file")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the server's TLS certificate (https://, wss://, tls://)")
	cmd.MarkFlagFilename("cacert", "pem", "crt", "cer")
	cmd.MarkFlagFilename("cert", "pem", "crt", "cer")
	cmd.MarkFlagFilename("key", "pem", "key")
}

func (f *remoteFlags) context(parent context.Context) (context.Context, context.CancelFunc) {
	if f.timeout > 0 {
		return context.WithTimeout(parent, f.timeout)
	}
	return context.WithCancel(parent)
}

// client returns a client configured by the flags. A header or a CA file
// that cannot be used is a usage error.
func (f *remoteFlags) client() (*client.Client, error) {
	var opts []client.Option
	for _, h := range f.headers {
		name, value, err := parseHeader(h)
		if err != nil {
			return nil, usageErrorf("--header %q: %v", h, err)
		}
		opts = append(opts, client.WithHeader(name, value))
	}
	if (f.cert == "") != (f.key == "") {
		return nil, usageErrorf("--cert and --key go together")
	}
	if f.caCert != "" || f.insecure || f.cert != "" {
		tc := &tls.Config{InsecureSkipVerify: f.insecure}
		if f.cert != "" {
			// The key's contents never reach a message: LoadX509KeyPair's
			// errors name the files and what is wrong with them.
			c, err := tls.LoadX509KeyPair(f.cert, f.key)
			if err != nil {
				return nil, usageErrorf("--cert/--key: %v", err)
			}
			tc.Certificates = []tls.Certificate{c}
		}
		if f.caCert != "" {
			pem, err := os.ReadFile(f.caCert)
			if err != nil {
				return nil, usageErrorf("--cacert: %v", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, usageErrorf("--cacert %s: no PEM certificate in it", f.caCert)
			}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		opts = append(opts, client.WithHTTPClient(&http.Client{Transport: tr}))
	}
	return client.New(opts...), nil
}

// parseHeader splits "Name: value" as curl's -H takes it: the name is an
// HTTP token, spaces around the value are dropped.
func parseHeader(h string) (name, value string, err error) {
	name, value, ok := strings.Cut(h, ":")
	if !ok {
		return "", "", errors.New("want Name: value")
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return "", "", fmt.Errorf("%q is not a header name", name)
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n\x00") {
		return "", "", errors.New("the value holds a line break or a NUL")
	}
	return name, value, nil
}

// isTokenChar reports whether r may appear in an HTTP token (RFC 9110).
func isTokenChar(r rune) bool {
	return r < 0x7f && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

func newGetCommand() *cobra.Command {
	var flags remoteFlags
	cmd := &cobra.Command{
		Use:   "get URL",
		Short: "Fetch a hyperglyph page and print it",
		Long: `get fetches the page at URL with GET and prints it as glyph show does: one
value per line with its type. The URLs in the page are made absolute, so the
links and forms it lists can be followed with glyph get and glyph call.

URL is an http:// or https:// URL, or a peer URL: ws://host:port/path,
wss://..., tcp://host:port, tls://host:port (TCP with TLS, checked as
--cacert and --insecure say; --cert and --key answer a server that asks for
a client certificate) or unix:///path/to/socket, each optionally
followed by #PATH, the page's path in the service served there (the index
when there is none). The page is then read over a peer connection, and the
URLs in it are printed as peer URLs (tcp://host:port#/hello).

With --json, the page is printed as JSON on one line instead, in the mapping
of package glyphjson (links as {"$link": {...}}, forms as {"$form": {...}}),
for jq and other JSON tools.

A server's error is printed with its message and logref, and get exits with
status 1.`,
		Example: `  glyph get http://127.0.0.1:8080/
  glyph get --json http://127.0.0.1:8080/
  glyph get tcp://127.0.0.1:9000
  glyph get 'ws://127.0.0.1:8080/peer#/User/?state'`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			c, err := flags.client()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := flags.context(cmd.Context())
			defer cancel()
			v, err := c.Get(ctx, args[0])
			if err != nil {
				return remoteError("GET "+args[0], err)
			}
			defer v.Close()
			return flags.print(cmd.OutOrStdout(), v)
		}),
	}
	flags.register(cmd)
	return cmd
}

func newCallCommand() *cobra.Command {
	var flags remoteFlags
	cmd := &cobra.Command{
		Use:   "call URL NAME [ARG | name=ARG]... [.NAME [ARG | name=ARG]...]...",
		Short: "Call a form or follow a link found on a hyperglyph page",
		Long: `call fetches the page at URL, finds the form or link called NAME on it,
calls it with the arguments that follow and prints the answer as glyph show
does. Each .NAME after that starts another step, on the answer of the one
before: so

  glyph call URL find_user bob .message hi there

calls find_user("bob") on the page at URL, then message("hi", "there") on
the user it answered with. A NAME may be a dotted path (user.bio); links met
on the way are followed. A NAME that names data instead of a form or a link
prints it. A lone . calls the previous answer itself, such as a form a
function returned:

  glyph call URL greeting lang=fr . Bob

Arguments are glyph values written as on a command line: 123, -4 and
18446744073709551616 are integers, 1.5 and 1e3 floats, true, false and nil
themselves; "a b" and 'a b' are strings, as is any argument that starts with
a letter (bob, Bob Smith once the shell has taken the quotes away);
[1, "two"] is a list and {"a": 1, b: 2} a dict. name=ARG binds by name
rather than position. To pass a string that looks like something else,
quote it twice: '"123"', '".name"', '"a=b"'.

URL is any URL glyph get takes. Over a peer URL (ws://, wss://, tcp://,
tls://, unix://) every step is a call over that one connection.

With --json, the answer is printed as JSON on one line, as glyph get --json
prints a page.

Arguments are checked against the form's inputs before anything is sent.
A server's error is printed with its message and logref, and call exits
with status 1. Without a NAME, call lists what the page offers.

Flags may come anywhere among the arguments. An argument that starts with
'-' but is not one of call's flags, such as -4, is an argument; everything
after -- is an argument.`,
		Example: `  glyph call http://127.0.0.1:8080/ hello name=Bob
  glyph call --json http://127.0.0.1:8080/ find_user bob
  glyph call tcp://127.0.0.1:9000 hello name=Bob
  glyph call --cacert ca.pem --cert me.pem --key me-key.pem tls://host:9443 hello
  glyph call unix:///run/app.sock find_user bob .bio
  glyph call http://127.0.0.1:8080/ find_user bob .message hi there
  glyph call http://127.0.0.1:8080/ find_user bob .bio
  glyph call http://127.0.0.1:8080/ greeting lang=fr . Bob`,
		// Flags may come anywhere, but an argument such as -4 is a number,
		// not a flag: splitFlags takes out only the flags call has.
		DisableFlagParsing: true,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			args, err := splitFlags(cmd.Flags(), args)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			if len(args) == 0 {
				return usageErrorf("call needs a URL and the NAME of a form or link on its page")
			}
			steps, err := parseSteps(args[1:])
			if err != nil {
				return err
			}
			c, err := flags.client()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := flags.context(cmd.Context())
			defer cancel()
			v, err := c.Get(ctx, args[0])
			if err != nil {
				return remoteError("GET "+args[0], err)
			}
			defer v.Close()
			if len(steps) == 0 {
				return usageErrorf("name a form or link to call: %s", offers(v))
			}
			for _, s := range steps {
				next, err := v.Path(ctx, s.name, s.callArgs()...)
				if err != nil {
					return remoteError(s.String(), err)
				}
				defer next.Close()
				v = next
			}
			return flags.print(cmd.OutOrStdout(), v)
		}),
	}
	flags.register(cmd)
	return cmd
}

// splitFlags parses the flags of fs found anywhere among args and returns
// the other arguments. An argument that starts with '-' but names none of
// fs's flags (-4, -1.5) is an argument; "--" ends the flags, so that what
// follows is taken as it is. An unknown --name is an error, not an
// argument, so that a mistyped flag is not sent to a server.
func splitFlags(fs *pflag.FlagSet, args []string) ([]string, error) {
	var flagArgs, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		var f *pflag.Flag
		inline := false // the value is in a itself: --name=value, -Hvalue
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
			continue
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if f = fs.Lookup(name); f == nil {
				return nil, fmt.Errorf("unknown flag: --%s (an argument that starts with - goes after --)", name)
			}
			inline = hasValue
		case len(a) > 1 && a[0] == '-':
			if f = fs.ShorthandLookup(a[1:2]); f == nil {
				rest = append(rest, a)
				continue
			}
			inline = len(a) > 2
		default:
			rest = append(rest, a)
			continue
		}
		flagArgs = append(flagArgs, a)
		if !inline && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			flagArgs = append(flagArgs, args[i])
		}
	}
	return rest, fs.Parse(flagArgs)
}

// offers lists the names a page offers to call, for a call without one.
func offers(v *client.Value) string {
	names := v.Names()
	if len(names) == 0 {
		return "the page offers none: " + newPrinter(false).compact(v.Any())
	}
	what := "the page"
	if r, ok := v.Any().(hyper.Resource); ok && r.Name != "" {
		what = fmt.Sprintf("resource %q", r.Name)
	}
	return what + " has " + strings.Join(names, ", ")
}

// print prints what a server answered: as glyph show does, or as JSON
// with --json.
func (f *remoteFlags) print(w io.Writer, v *client.Value) error {
	if f.json {
		return printJSON(w, v)
	}
	return printValue(w, v, f.full)
}

// printJSON prints what a server answered as JSON and a newline. The
// client converts it from hyperglyph rather than asking the server for
// JSON: so it works over every transport, peers included, and prints the
// page with its URLs made absolute, as get and call read it.
func printJSON(w io.Writer, v *client.Value) error {
	if b, ok := v.Blob(); ok {
		defer b.Close()
	}
	b, err := glyphjson.Marshal(v.Any())
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// printValue prints what a server answered, as glyph show does.
func printValue(w io.Writer, v *client.Value, full bool) error {
	if b, ok := v.Blob(); ok {
		defer b.Close()
	}
	p := newPrinter(full)
	p.endpoint = v.Endpoint()
	p.block(0, "", v.Any())
	if p.err != nil {
		return p.err
	}
	_, err := w.Write(p.out.Bytes())
	return err
}

// A step is one call of glyph call: a name and its arguments.
type step struct {
	name       string
	positional []any
	named      client.Named
	src        []string // the arguments as given, for messages
}

func (s step) callArgs() []any {
	args := s.positional
	if len(s.named) > 0 {
		args = append(args[:len(args):len(args)], s.named)
	}
	return args
}

// String renders the step as a call: find_user("bob"), or .("bob") for
// a call of the previous answer itself.
func (s step) String() string {
	name := s.name
	if name == "" {
		name = "."
	}
	return name + "(" + strings.Join(s.src, ", ") + ")"
}

// parseSteps splits the arguments after the URL into steps: a name, its
// arguments, then each .name (or a lone ".", which calls the previous
// answer) and its arguments.
func parseSteps(args []string) ([]step, error) {
	var steps []step
	for i, a := range args {
		if i == 0 || a == "." || isStepName(a) {
			steps = append(steps, step{name: strings.TrimPrefix(a, ".")})
			continue
		}
		s := &steps[len(steps)-1]
		if name, value, ok := namedArg(a); ok {
			v, err := literal.Parse(value)
			if err != nil {
				return nil, fmt.Errorf("argument %s of %s: %v", a, s.name, err)
			}
			if _, dup := s.named[name]; dup {
				return nil, fmt.Errorf("argument %s of %s: %s is given twice", a, s.name, name)
			}
			if s.named == nil {
				s.named = client.Named{}
			}
			s.named[name] = v
			s.src = append(s.src, name+"="+describeLiteral(v))
			continue
		}
		v, err := literal.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("argument %q of %s: %v", a, s.name, err)
		}
		s.positional = append(s.positional, v)
		s.src = append(s.src, describeLiteral(v))
	}
	return steps, nil
}

// isStepName reports whether a starts a step: a '.' then a name.
func isStepName(a string) bool {
	rest, ok := strings.CutPrefix(a, ".")
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return r == '_' || unicode.IsLetter(r)
}

// namedArg splits name=value, where name is an identifier.
func namedArg(a string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(a, "=")
	if !ok || name == "" {
		return "", "", false
	}
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && (unicode.IsDigit(r) || r == '-')) {
			return "", "", false
		}
	}
	return name, value, true
}

// describeLiteral renders a parsed argument compactly, for messages.
func describeLiteral(v any) string {
	return newPrinter(false).compact(v)
}

// remoteError describes a failed request for a person: the server's
// message, its status and the logref that finds it in the server's log.
// what is the step that failed; it is said once, also when the error's
// operation already is that step (GET URL).
func remoteError(what string, err error) error {
	var e *service.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Op != "" && e.Op != what {
		msg = e.Op + ": " + msg
	}
	var details []string
	if code := client.StatusCode(err); code != 0 {
		details = append(details, fmt.Sprintf("%d %s", code, http.StatusText(code)))
	}
	if e.Logref != "" {
		details = append(details, "logref "+e.Logref)
	}
	if len(details) > 0 {
		msg += " (" + strings.Join(details, ", ") + ")"
	}
	return fmt.Errorf("%s: %s", what, msg)
}
