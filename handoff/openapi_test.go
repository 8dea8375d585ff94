package handoff_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/frontdesk/frontdesk/handoff"
)

// TestOpenAPIDocumentsEveryRoute keeps openapi.yaml and the JSON API in step.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))

	// Registering connects to nothing: pools and River clients are lazy.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	app := fiber.New()
	handoff.Register(app, handoff.Deps{Pool: pool, Jobs: jobs})

	param := regexp.MustCompile(`:(\w+)`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		path, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || r.Method == fiber.MethodHead || path == "" {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(path, "{$1}")] = true
	}
	require.Equal(t, documented, served)
}
