package handoff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/handoff/console"
)

// ui holds the parsed templates and the static files with their versions.
// Templates are html/template: everything a shopper or an agent wrote is
// escaped where it is printed; no template marks user text as safe HTML.
type ui struct {
	base   *template.Template            // layout and partials
	pages  map[string]*template.Template // page name → base + page
	static map[string]staticFile
}

type staticFile struct {
	body        []byte
	contentType string
	version     string
}

var pageNames = []string{"login", "queue", "thread", "agents", "tokens", "account", "comments", "error"}

func newUI() *ui {
	u := &ui{pages: map[string]*template.Template{}, static: map[string]staticFile{}}
	files, err := fs.Glob(console.FS, "static/*")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(console.FS, f)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		name := path.Base(f)
		u.static[name] = staticFile{body: b, contentType: mime.TypeByExtension(path.Ext(name)), version: hex.EncodeToString(sum[:6])}
	}
	u.base = template.Must(template.New("base").Funcs(u.funcs()).ParseFS(console.FS, "templates/layout.html", "templates/partials.html"))
	for _, name := range pageNames {
		t := template.Must(u.base.Clone())
		u.pages[name] = template.Must(t.ParseFS(console.FS, "templates/"+name+".html"))
	}
	return u
}

func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			f, ok := u.static[name]
			if !ok {
				panic("unknown static file " + name)
			}
			return "/console/static/" + name + "?v=" + f.version
		},
		"iso": func(t any) string {
			if tm, ok := derefTime(t); ok {
				return tm.UTC().Format(time.RFC3339)
			}
			return ""
		},
		"when": func(t any) string {
			if tm, ok := derefTime(t); ok {
				return tm.UTC().Format("Jan 2, 15:04 UTC")
			}
			return "—"
		},
		"dur":     formatSeconds,
		"channel": platformName,
		"label": func(s string) string {
			s = strings.ReplaceAll(s, "_", " ")
			if s == "" {
				return ""
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"priority": func(p int) string {
			switch {
			case p >= 2:
				return "High"
			case p == 1:
				return "Elevated"
			}
			return "Normal"
		},
		"initial": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"join": strings.Join,
		"list": func(v ...string) []string { return v },
		"inc":  func(i int) int { return i + 1 },
		"csv": func(ids []int64) string {
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = fmt.Sprint(id)
			}
			return strings.Join(parts, ",")
		},
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"money": func(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) },
	}
}

func derefTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil {
			return *t, !t.IsZero()
		}
	}
	return time.Time{}, false
}

// formatSeconds says a duration the way a queue shows it: 45s, 12m, 3h 05m, 2d 4h.
func formatSeconds(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", s)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// pageData is what every page template gets.
type pageData struct {
	Title  string
	Actor  *Actor
	Nav    string // the current section, for the navigation
	Notice string
	Error  string
	// Live names what the page's script refreshes on live events
	// ("queue", "thread"); empty for pages without live updates.
	Live string
	Body any
}

func (h *handler) render(c *fiber.Ctx, status int, name string, data pageData) error {
	var buf bytes.Buffer
	if err := h.ui.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s page: %w", name, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// renderFragment renders one partial template, for live refreshes.
func (h *handler) renderFragment(c *fiber.Ctx, name string, data any) error {
	var buf bytes.Buffer
	if err := h.ui.base.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// static serves the embedded script, style sheet and icons. A request
// naming the current version may be cached for good.
func (h *handler) static(c *fiber.Ctx) error {
	f, ok := h.ui.static[c.Params("file")]
	if !ok {
		return c.SendStatus(fiber.StatusNotFound)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderETag, `"`+f.version+`"`)
	if c.Query("v") == f.version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+f.version+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(f.body)
}
