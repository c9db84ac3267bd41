package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secretValue = "s3cr3t-Value-from-env"

func newTestSet(env map[string]string) (*FlagSet, *bytes.Buffer) {
	var out bytes.Buffer
	e := &Env{Stderr: &out, Stdout: &out, Getenv: func(k string) string { return env[k] }}
	return NewFlagSet(e, "process", "test command"), &out
}

// TestNoSecretPrinted: --help, a mistyped flag, a flag without its value and a bad value of another
// flag all print usage or an error, and none of them may show a value that came from the environment.
func TestNoSecretPrinted(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--no-such-flag"}, {"--redis-addr"}, {"--batch", "x"}, {"--redis-prefix=a", "--bogus=1"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			fs, out := newTestSet(map[string]string{
				"TEPLOKARTA_REDIS_PASSWORD": secretValue,
				"TEPLOKARTA_REDIS_PREFIX":   "prefix-" + secretValue,
			})
			fs.String("redis-addr", "127.0.0.1:16379", "Redis address")
			fs.String("redis-prefix", "teplokarta:", "key prefix")
			fs.Secret("redis-password", "Redis password")
			fs.Int("batch", 10, "batch")
			err := fs.Parse(args)
			if err == nil {
				t.Fatal("parse succeeded, want an error")
			}
			text := out.String() + err.Error()
			if strings.Contains(text, secretValue) {
				t.Errorf("output shows the environment's value:\n%s", text)
			}
			if !strings.Contains(out.String(), "$TEPLOKARTA_REDIS_PASSWORD") && errors.Is(err, flag.ErrHelp) {
				t.Errorf("help does not name the variable:\n%s", out.String())
			}
		})
	}
}

func TestEnvAndFilesFillFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr string
	}{
		{name: "default", want: ""},
		{name: "env", env: map[string]string{"TEPLOKARTA_PASSWORD": "from-env"}, want: "from-env"},
		{name: "flag wins over env", env: map[string]string{"TEPLOKARTA_PASSWORD": "from-env"}, args: []string{"--password", "from-flag"}, want: "from-flag"},
		{name: "file flag", args: []string{"--password-file", file}, want: "from-file"},
		{name: "file env", env: map[string]string{"TEPLOKARTA_PASSWORD_FILE": file}, want: "from-file"},
		{name: "file and flag", args: []string{"--password", "x", "--password-file", file}, wantErr: "both set"},
		{name: "missing file", args: []string{"--password-file", filepath.Join(dir, "nope")}, wantErr: "--password-file"},
		{name: "empty file", args: []string{"--password-file", empty}, wantErr: "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := newTestSet(tc.env)
			pw := fs.Secret("password", "password")
			err := fs.Parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *pw != tc.want {
				t.Errorf("password %q, want %q", *pw, tc.want)
			}
		})
	}
}

func TestEnvTypedFlags(t *testing.T) {
	fs, _ := newTestSet(map[string]string{"TEPLOKARTA_N": "7", "TEPLOKARTA_D": "3s", "TEPLOKARTA_B": "true", "TEPLOKARTA_F": "1.5", "TEPLOKARTA_I64": "9"})
	n, d, b, f, i := fs.Int("n", 1, ""), fs.Duration("d", time.Second, ""), fs.Bool("b", false, ""), fs.Float64("f", 0, ""), fs.Int64("i64", 0, "")
	if err := fs.Parse([]string{"--n", "8"}); err != nil {
		t.Fatal(err)
	}
	if *n != 8 || *d != 3*time.Second || !*b || *f != 1.5 || *i != 9 {
		t.Errorf("got n=%d d=%s b=%t f=%g i64=%d", *n, *d, *b, *f, *i)
	}
	fs, _ = newTestSet(map[string]string{"TEPLOKARTA_N": "seven"})
	fs.Int("n", 1, "")
	if err := fs.Parse(nil); err == nil || !strings.Contains(err.Error(), "TEPLOKARTA_N") {
		t.Errorf("bad env value: err %v", err)
	}
}
