package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestComposeCommandsPassConfigCheck runs the real binary with each teplokarta service's exact command
// line and environment from docker-compose.yml, plus --check-config: the program parses its flags and
// reads and validates the files the container would read (paths inside the container are mapped to the
// repo files the image copies or compose mounts there), so a service that would exit at start on its
// own configuration fails here.
func TestComposeCommandsPassConfigCheck(t *testing.T) {
	root, p := loadCompose(t)
	bin := filepath.Join(t.TempDir(), "teplokarta")
	build := exec.Command("go", "build", "-o", bin, "./cmd/teplokarta")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, s := range p.Services {
		if s.Image != "teplokarta:local" {
			continue
		}
		if len(s.Command) == 0 {
			t.Errorf("%s: no command", s.Name)
			continue
		}
		seen[s.Command[0]] = true
		fs := serviceFS(t, root, p, s)
		// A value naming a file in the container is replaced by the repo file it is.
		mapPath := func(v string) string {
			if strings.HasPrefix(v, "/") {
				if host := fs.resolve(v); host != "" {
					return host
				}
			}
			return v
		}
		args := make([]string, 0, len(s.Command)+1)
		for _, a := range s.Command {
			args = append(args, mapPath(a))
		}
		args = append(args, "--check-config")
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // nothing of the host's TEPLOKARTA_*
		for k, v := range s.Environment {
			if v != nil {
				env = append(env, k+"="+mapPath(*v))
			}
		}
		sort.Strings(env)
		t.Run(s.Name, func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			cmd.Env, cmd.Dir = env, t.TempDir()
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "configuration OK") {
				t.Errorf("compose's %q with its environment fails the program's own check: %v\n%s", strings.Join(s.Command, " "), err, out)
			}
		})
	}
	for _, c := range []string{"migrate", "ingest", "process", "sla", "simulate"} {
		if !seen[c] {
			t.Errorf("no compose service runs teplokarta %s", c)
		}
	}
}
