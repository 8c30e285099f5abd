package hypernats_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// natsCLI runs the nats command-line tool (natscli) against url.
func natsCLI(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nats", append([]string{"--server", url}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// What NATS's own tool sees of a glyph service. It needs the nats command
// (natscli), which is not a dependency of this module, so the test skips
// without it, CI included.
func TestNATSCLI(t *testing.T) {
	if _, err := exec.LookPath("nats"); err != nil {
		t.Skip("no nats command: go install github.com/nats-io/natscli/nats@v0.5.0 to run this test")
	}
	ns := startNATS(t)
	serve(t, connect(t, ns.ClientURL()), testService(t), serviceName("demo"))
	url := ns.ClientURL()

	if out := natsCLI(t, url, "micro", "list"); !strings.Contains(out, "demo") {
		t.Errorf("micro list:\n%s", out)
	}
	var resp struct {
		Info struct {
			Name      string
			Endpoints []struct {
				Subject  string
				Metadata map[string]string
			}
		}
	}
	out := natsCLI(t, url, "micro", "info", "demo", "--json")
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	info := resp.Info
	found := false
	for _, e := range info.Endpoints {
		if e.Subject == "glyph.add" {
			found = e.Metadata["glyph.inputs"] == `[{"name":"a","type":"integer"},{"name":"b","type":"integer"}]`
		}
	}
	if info.Name != "demo" || !found {
		t.Errorf("micro info:\n%s", out)
	}
	if out := natsCLI(t, url, "request", "glyph.add", "[40, 2]", "--raw"); strings.TrimSpace(out) != "42" {
		t.Errorf("request glyph.add: %q", out)
	}
	if out := natsCLI(t, url, "micro", "stats", "demo", "--json"); !strings.Contains(out, `"calls": 1`) {
		t.Errorf("micro stats:\n%s", out)
	}
}
