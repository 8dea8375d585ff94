// Package console holds the agent console's templates, script and style
// sheet, embedded in the binary. There is no build step: the script is
// plain JavaScript and the pages work without it (it adds live updates,
// keyboard shortcuts and canned responses). Nothing is inline, so the
// pages run under a Content-Security-Policy of default-src 'self'.
package console

import "embed"

// FS holds templates/*.html (html/template) and static/*.
//
//go:embed templates/*.html static/*
var FS embed.FS
