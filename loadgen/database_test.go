package loadgen

import "testing"

func TestWithDatabaseKeepsTheServerSettings(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@127.0.0.1:5432/postgres?sslmode=disable":        "postgres://u@127.0.0.1:5432/run1?sslmode=disable",
		"postgres://u@/frontdesk?host=%2Fsrv%2Fpg-run&port=55432":     "postgres://u@/run1?host=%2Fsrv%2Fpg-run&port=55432",
		"host=/srv/pg-run port=55432 user=u dbname=frontdesk":         "host=/srv/pg-run port=55432 user=u dbname=frontdesk dbname=run1",
		"postgresql://u:secret@db.internal/frontdesk?sslmode=require": "postgresql://u:secret@db.internal/run1?sslmode=require",
	} {
		if got := withDatabase(in, "run1"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}
