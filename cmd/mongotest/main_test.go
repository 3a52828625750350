package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mongoshVersion is the pinned mongosh release the client check installs from npm.
const mongoshVersion = "2.12.0"

// startCLI builds and starts the command on a free port and returns its URI.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mongotest")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	return cmd, strings.TrimSpace(line)
}

func TestCLIPrintsURIAndStopsOnSignal(t *testing.T) {
	cmd, uri := startCLI(t)
	require.True(t, strings.HasPrefix(uri, "mongodb://127.0.0.1:"), uri)
	assert.NotContains(t, uri, ":0/", "port 0 is replaced by the port picked")
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	require.NoError(t, err)
	require.NoError(t, client.Ping(context.Background(), nil))
	_ = client.Disconnect(context.Background())

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status 0 after SIGTERM")
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop after SIGTERM")
	}
}

// mongosh returns the path of the pinned mongosh, installing it from npm into the user
// cache on first use. It skips the test, saying why, when npm or the registry is not
// reachable.
func mongosh(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MONGOSH"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "modjo", "mongosh-"+mongoshVersion)
	bin := filepath.Join(dir, "node_modules", ".bin", "mongosh")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("mongosh check skipped: npm is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", "mongosh@"+mongoshVersion)
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("mongosh check skipped: npm could not install mongosh@%s (registry unreachable?): %v\n%s", mongoshVersion, err, out)
	}
	return bin
}

func TestMongoshAgainstCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("mongosh check skipped in -short mode")
	}
	shell := mongosh(t)
	_, uri := startCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, shell, uri, "--quiet", "--norc", "--file", "testdata/mongosh-check.js")
	run.Env = append(os.Environ(), "MONGOSH_NO_UPDATE_CHECK=1", "DO_NOT_TRACK=1")
	out, err := run.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) || err != nil {
		t.Fatalf("mongosh failed: %v\n%s", err, out)
	}
	want := []string{
		`collections: ["items"]`,
		`inserted: 3`,
		`found: [{"name":"book"}]`,
		`in: 2`,
		`regex: [2]`,
		`updated: 2 2`,
		`after: {"_id":1,"name":"pen","price":3,"tags":["office","sale"]}`,
		`duplicate: 11000`,
		`indexes: ["_id_","name_1"]`,
		`deleted: 1`,
		`left: 2`,
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Equal(t, want, got, "mongosh output:\n%s", out)
}
