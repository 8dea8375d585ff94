package handoff

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
)

// handler serves the console's pages and API.
type handler struct {
	svc        *service
	hub        *hub
	xo         *crossOrigin
	cookieName string
	secure     bool
	ui         *ui
}

func newHandler(deps Deps) *handler {
	xo, err := newCrossOrigin(deps.Config.TrustedOrigins)
	if err != nil {
		panic("handoff.Register: " + err.Error())
	}
	h := &handler{
		svc:        &service{pool: deps.Pool, jobs: deps.Jobs, cfg: deps.Config, now: deps.Now},
		hub:        newHub(deps.Pool.Config().ConnConfig.Copy()),
		xo:         xo,
		cookieName: "frontdesk_session",
		secure:     deps.SecureCookies,
		ui:         newUI(),
	}
	if deps.SecureCookies {
		// The prefix makes browsers insist on Secure, Path=/ and no Domain.
		h.cookieName = "__Host-frontdesk_session"
	}
	return h
}

// routes mounts everything. Each route names the roles it admits; the
// wrappers check them on every request.
func (h *handler) routes(app fiber.Router) {
	everyone := Roles
	staff := []Role{RoleAdmin, RoleAgent}
	admin := []Role{RoleAdmin}
	social := []Role{RoleAdmin, RoleSocial}

	c := app.Group("/console", h.pageHeaders, h.refuseCrossOrigin(false))
	c.Get("/static/:file", h.static)
	c.Get("/login", h.loginPage)
	c.Post("/login", h.login)
	c.Post("/logout", h.logout)
	c.Get("/", h.page(everyone, h.home))
	c.Get("/queue", h.page(staff, h.queuePage))
	c.Get("/queue/live", h.page(staff, h.queueFragment))
	c.Get("/events", h.api(staff, h.events))
	c.Get("/conversations/:id", h.page(staff, h.threadPage))
	c.Get("/conversations/:id/live", h.page(staff, h.threadFragment))
	c.Post("/conversations/:id/claim", h.page(staff, h.claimForm))
	c.Post("/conversations/:id/assign", h.page(staff, h.assignForm))
	c.Post("/conversations/:id/unassign", h.page(staff, h.unassignForm))
	c.Post("/conversations/:id/takeover", h.page(staff, h.takeOverForm))
	c.Post("/conversations/:id/reply", h.page(staff, h.replyForm))
	c.Post("/conversations/:id/notes", h.page(staff, h.noteForm))
	c.Post("/conversations/:id/resolve", h.page(staff, h.resolveForm))
	c.Post("/conversations/:id/handback", h.page(staff, h.handBackForm))
	c.Post("/customers/:id/link", h.page(staff, h.linkForm))
	c.Get("/comments", h.page(social, h.commentsPage))
	c.Get("/account", h.page(everyone, h.accountPage))
	c.Post("/account/password", h.page(everyone, h.passwordForm))
	c.Get("/agents", h.page(admin, h.agentsPage))
	c.Post("/agents", h.page(admin, h.createAgentForm))
	c.Post("/agents/:id", h.page(admin, h.updateAgentForm))
	c.Get("/tokens", h.page(admin, h.tokensPage))
	c.Post("/tokens", h.page(admin, h.createTokenForm))
	c.Post("/tokens/:id/revoke", h.page(admin, h.revokeTokenForm))

	api := app.Group("/api/v1", h.apiHeaders, h.refuseCrossOrigin(true))
	api.Get("/me", h.api(everyone, h.apiMe))
	api.Get("/events", h.api(staff, h.events))
	api.Get("/queue", h.api(staff, h.apiQueue))
	api.Get("/conversations/:id", h.api(staff, h.apiThread))
	api.Post("/conversations/:id/claim", h.api(staff, h.apiClaim))
	api.Post("/conversations/:id/assign", h.api(staff, h.apiAssign))
	api.Post("/conversations/:id/unassign", h.api(staff, h.apiUnassign))
	api.Post("/conversations/:id/takeover", h.api(staff, h.apiTakeOver))
	api.Post("/conversations/:id/messages", h.api(staff, h.apiReply))
	api.Post("/conversations/:id/notes", h.api(staff, h.apiNote))
	api.Post("/conversations/:id/resolve", h.api(staff, h.apiResolve))
	api.Post("/conversations/:id/handback", h.api(staff, h.apiHandBack))
	api.Post("/customers/:id/link", h.api(staff, h.apiLink))
	api.Get("/agents", h.api(admin, h.apiAgents))
	api.Post("/agents", h.api(admin, h.apiCreateAgent))
	api.Patch("/agents/:id", h.api(admin, h.apiUpdateAgent))
	api.Get("/tokens", h.api(admin, h.apiTokens))
	api.Post("/tokens", h.api(admin, h.apiCreateToken))
	api.Delete("/tokens/:id", h.api(admin, h.apiRevokeToken))
}

// contentSecurityPolicy allows this origin's scripts and styles only,
// nothing inline; images also from https (attachments live on the
// platforms' CDNs).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' https: data:; media-src 'self' https:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (h *handler) pageHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if h.secure {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

func (h *handler) apiHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// refuseCrossOrigin answers 403 to a state-changing request another site
// made a browser send.
func (h *handler) refuseCrossOrigin(api bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if h.xo.allowed(c) {
			return c.Next()
		}
		zerolog.Ctx(c.UserContext()).Warn().Str("path", c.Path()).Msg("Refused a cross-origin request")
		err := newError(http.StatusForbidden, CodeCrossOrigin, "This request came from another site and was refused.")
		if api {
			return c.Status(err.Status).JSON(err)
		}
		return c.Status(err.Status).Type("txt").SendString(err.Message)
	}
}

type actorHandler func(c *fiber.Ctx, a *Actor) error

// page wraps an HTML handler: it signs the agent in from the session
// cookie (or sends them to the sign-in page), checks the role, and turns
// errors into pages.
func (h *handler) page(roles []Role, fn actorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := h.sessionActor(c)
		if err != nil {
			return h.errorPage(c, nil, err)
		}
		if a == nil {
			if c.Method() == fiber.MethodGet && !strings.HasSuffix(c.Path(), "/live") {
				return c.Redirect("/console/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			return h.renderLogin(c, fiber.StatusUnauthorized, "Your session has ended. Sign in again.", "", "")
		}
		if !allows(a, roles) {
			return h.errorPage(c, a, errForbidden)
		}
		c.SetUserContext(zerolog.Ctx(c.UserContext()).With().Int64("agent_id", a.ID).Logger().WithContext(c.UserContext()))
		if err := fn(c, a); err != nil {
			return h.errorPage(c, a, err)
		}
		return nil
	}
}

// api wraps a JSON handler: bearer token or session cookie, role check,
// errors as JSON.
func (h *handler) api(roles []Role, fn actorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := h.tokenActor(c)
		if err == nil && a == nil {
			a, err = h.sessionActor(c)
		}
		if err != nil {
			return h.apiError(c, err)
		}
		if a == nil {
			return h.apiError(c, newError(http.StatusUnauthorized, CodeUnauthenticated,
				"Sign in, or send an API token as \"Authorization: Bearer fda_…\"."))
		}
		if !allows(a, roles) {
			return h.apiError(c, errForbidden)
		}
		c.SetUserContext(zerolog.Ctx(c.UserContext()).With().Int64("agent_id", a.ID).Logger().WithContext(c.UserContext()))
		if err := fn(c, a); err != nil {
			return h.apiError(c, err)
		}
		return nil
	}
}

func (h *handler) apiError(c *fiber.Ctx, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		zerolog.Ctx(c.UserContext()).Error().Err(err).Str("path", c.Path()).Msg("Console API request failed")
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "Something went wrong; try again."}
	}
	if e.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="frontdesk"`)
	}
	return c.Status(e.Status).JSON(e)
}

// idParam reads a positive numeric route parameter.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("The page")
	}
	return id, nil
}
