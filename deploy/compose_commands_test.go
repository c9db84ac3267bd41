package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeCommandsPassConfigCheck runs the real binary with each teplokarta service's exact command
// line and environment from docker-compose.yml, plus --check-config: the program parses its flags and
// reads and validates the files the container would read (paths inside the container are mapped to the
// repo files the image copies or compose mounts there), so a service that would exit at start on its
// own configuration fails here.
func TestComposeCommandsPassConfigCheck(t *testing.T) {
	_, p := loadCompose(t)
	checkComposeCommands(t, p)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// teplokartaBinary builds cmd/teplokarta once for the package's tests.
func teplokartaBinary(t *testing.T, root string) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "teplokarta-deploy-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "teplokarta")
		build := exec.Command("go", "build", "-o", binPath, "./cmd/teplokarta")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// checkComposeCommands runs every teplokarta service of p with --check-config.
func checkComposeCommands(t *testing.T, p *types.Project) {
	t.Helper()
	root, _ := filepath.Abs("..")
	bin := teplokartaBinary(t, root)
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
