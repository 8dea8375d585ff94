// Package browsertest starts the headless Chromium that the console's
// browser tests drive: Debian's chromium package, with the flags this
// workplace needs (no sandbox as root, no background networking).
package browsertest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser; CI
// installs it.
const ChromiumPath = "/usr/bin/chromium"

// Start starts a headless Chromium for the test, or skips the test when
// there is none, and returns a context driving one tab for at most timeout,
// with a function listing the script exceptions and console errors (a
// Content-Security-Policy violation is one) seen so far.
func Start(t *testing.T, timeout time.Duration) (ctx context.Context, problems func() []string) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("no browser at %s: %v", ChromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var seen []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			seen = append(seen, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			// EventSource reconnecting at shutdown is not a problem of the page.
			if ev.Entry.Level == log.EntryLevelError && !strings.Contains(ev.Entry.Text, "EventSource") {
				seen = append(seen, "console: "+ev.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatalf("browsertest: listen: %v", err)
	}
	for _, enable := range []cdp.Command[cdp.Empty, cdp.Empty]{log.Enable, runtime.Enable} {
		if _, err := chromedp.Call(ctx, enable, cdp.Empty{}); err != nil {
			t.Fatalf("browsertest: %v", err)
		}
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// Text reads the rendered text of the first element matching sel, waiting
// until one is shown. It queries and reads the live document in one step:
// the console's live updates replace whole regions, and a query followed by
// a separate read of the node it found can read a node just detached, whose
// text counts as "" because it is no longer rendered.
func Text(sel string) chromedp.Action[string] {
	read := chromedp.PollFunction[struct {
		Text string `json:"text"`
	}](`(sel) => {
		const el = document.querySelector(sel);
		return el && el.getClientRects().length ? { text: el.innerText } : null;
	}`, chromedp.WithPollingArgs(sel))
	return func(ctx context.Context, t *chromedp.Target) (string, error) {
		v, err := read(ctx, t)
		return strings.TrimSpace(v.Text), err
	}
}

// Click clicks the first element matching sel once one is shown, finding
// and clicking it in one step, as a person's click is. Use it for elements
// inside the console's live regions: chromedp.Click finds the node first
// and clicks it in later calls, by which time a live update may have
// replaced it.
func Click(sel string) chromedp.Action[chromedp.Void] {
	click := chromedp.PollFunction[bool](`(sel) => {
		const el = document.querySelector(sel);
		if (!el || !el.getClientRects().length || el.disabled) return false;
		el.click();
		return true;
	}`, chromedp.WithPollingArgs(sel))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := click(ctx, t)
		return chromedp.Void{}, err
	}
}
