// Package migrations embeds Frontdesk's forward-only SQL migrations.
// Applied files are never edited; a change is a new file.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
