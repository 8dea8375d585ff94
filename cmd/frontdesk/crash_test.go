package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// TestMain lets the test binary act as the frontdesk binary, so the crash
// test can run real gateway processes and kill one with SIGKILL.
func TestMain(m *testing.M) {
	if args := os.Getenv("FRONTDESK_TEST_ARGS"); args != "" {
		os.Args = append([]string{"frontdesk"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}

// startProcess runs `frontdesk serve` as a child process and waits until it answers.
func startProcess(t *testing.T, configPath string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), env...),
		"FRONTDESK_TEST_ARGS="+strings.Join([]string{"serve", "--config", configPath, "--listen", addr}, "\x1f"))
	// A gateway outlives nothing: if this test process dies, so does it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // may be dead already
		cmd.Wait()         //nolint:errcheck
		if t.Failed() {
			t.Logf("gateway output:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 20*time.Millisecond, "gateway did not start")
	return cmd, url
}

// TestCrashAfterAckStillSends kills a gateway with SIGKILL after it has
// acknowledged a message and while its reply is on the way to the Graph
// API; a new process sends the reply, once.
func TestCrashAfterAckStillSends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gateway processes")
	}
	t.Parallel()
	_, dbURL := storetest.NewDB(t)
	const secret, page, token = "crash-secret", "5550001", "crash-token"
	stub := graphstub.New(secret, map[string]string{page: token}, "v23.0")

	// The Graph API is "down" at first: calls reach it and hang, unanswered.
	var holding atomic.Bool
	holding.Store(true)
	held := make(chan struct{}, 16)
	var once sync.Once
	released := make(chan struct{})
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if holding.Load() && r.Method == http.MethodPost {
			once.Do(func() { held <- struct{}{} })
			select {
			case <-r.Context().Done():
			case <-released:
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		stub.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(released)
		graph.Close()
	})

	configPath := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(configPath, []byte(fmt.Sprintf(`
store_name: Crash Store
log_level: warn
meta:
  graph_url: %s
  channels:
    - {platform: messenger, id: "%s", name: Crash Page, token_env: CRASH_TOKEN}
outbox:
  retry_base: 50ms
  job_timeout: 5s
  rescue_after: 6s
`, graph.URL, page)), 0o600))
	env := []string{"DATABASE_URL=" + dbURL, "META_APP_SECRET=" + secret,
		"META_VERIFY_TOKEN=crash-verify", "CRASH_TOKEN=" + token}

	first, url := startProcess(t, configPath, env...)
	body := meta.MessageWebhook(conversation.Messenger, page, "psid-crash", "mid.crash", "hello", "", time.Now())
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/meta", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Hub-Signature-256", meta.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "acknowledged")

	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the reply never reached the Graph API")
	}
	t.Log("reply in flight; killing the gateway")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	first.Wait() //nolint:errcheck // killed
	require.Empty(t, stub.SentTo("psid-crash"))

	holding.Store(false)
	startProcess(t, configPath, env...)
	// The dead process's claim on the reply lapses after rescue_after;
	// the rescue job then hands the reply to River.
	require.Eventually(t, func() bool { return len(stub.SentTo("psid-crash")) == 1 },
		90*time.Second, 50*time.Millisecond, "the reply was not sent after the restart")
	require.Never(t, func() bool { return len(stub.SentTo("psid-crash")) > 1 }, time.Second, 50*time.Millisecond)
}
