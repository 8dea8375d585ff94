package handoff

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/handoff/auth"
	"github.com/frontdesk/frontdesk/store"
)

// touchEvery is how stale a session's or token's last-seen time may get
// before a request writes it again: one write a minute, not one a request.
const touchEvery = time.Minute

// errWrongCredentials is the one answer to a failed sign-in, whatever
// failed: it tells nobody which addresses have accounts.
var errWrongCredentials = newError(http.StatusUnauthorized, CodeUnauthenticated, "The e-mail address or the password is wrong.")

// signIn checks an e-mail address and password under the sign-in rate
// limit and opens a session. It returns the session token for the cookie.
func (s *service) signIn(ctx context.Context, email, password, ip, userAgent string) (string, store.Agent, error) {
	email = auth.NormalizeEmail(email)
	key := auth.EmailKey(email)
	now := s.now()
	var attemptID int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := store.LockSignInKeys(ctx, tx, key, ip); err != nil {
			return err
		}
		byEmail, byIP, oldestEmail, oldestIP, err := store.SignInFailures(ctx, tx, key, ip, now.Add(-s.cfg.SignInWindow))
		if err != nil {
			return err
		}
		var oldest *time.Time
		switch {
		case byEmail >= s.cfg.SignInLimit:
			oldest = oldestEmail
		case byIP >= s.cfg.SignInLimitPerIP:
			oldest = oldestIP
		}
		if oldest != nil {
			wait := oldest.Add(s.cfg.SignInWindow).Sub(now)
			minutes := max(int(math.Ceil(wait.Minutes())), 1)
			zerolog.Ctx(ctx).Warn().Int("failures_for_address", byEmail).Int("failures_from_ip", byIP).Msg("Sign-in refused by rate limit")
			return newError(http.StatusTooManyRequests, CodeRateLimited,
				"Too many failed sign-ins. Try again in %d minute%s.", minutes, plural(minutes))
		}
		attemptID, err = store.InsertSignInAttempt(ctx, tx, key, ip, now, now.Add(-24*time.Hour))
		return err
	})
	if err != nil {
		return "", store.Agent{}, err
	}

	agent, err := store.AgentByEmail(ctx, s.pool, email)
	if errors.Is(err, store.ErrNotFound) {
		auth.BurnTime(password)
		return "", agent, errWrongCredentials
	}
	if err != nil {
		return "", agent, err
	}
	switch err := auth.VerifyPassword(agent.PasswordHash, password); {
	case errors.Is(err, auth.ErrMismatch):
		return "", agent, errWrongCredentials
	case err != nil:
		zerolog.Ctx(ctx).Error().Err(err).Int64("agent_id", agent.ID).Msg("Stored password hash is unreadable")
		return "", agent, errWrongCredentials
	}
	if !agent.Active {
		return "", agent, errWrongCredentials
	}
	if err := store.MarkSignInSucceeded(ctx, s.pool, attemptID); err != nil {
		return "", agent, err
	}
	if auth.NeedsRehash(agent.PasswordHash) {
		if hash, err := auth.HashPassword(password); err == nil {
			if _, err := store.UpdateAgent(ctx, s.pool, agent.ID, store.AgentUpdate{PasswordHash: &hash}, now); err != nil {
				return "", agent, err
			}
		}
	}
	token, digest, err := auth.NewToken(auth.SessionPrefix)
	if err != nil {
		return "", agent, err
	}
	if err := store.CreateSession(ctx, s.pool, store.Session{
		TokenHash: digest, AgentID: agent.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionMaxAge),
		LastSeenAt: now, UserAgent: truncate(userAgent, 200), IP: ip,
	}); err != nil {
		return "", agent, err
	}
	if err := store.DeleteExpiredSessions(ctx, s.pool, now, now.Add(-s.cfg.SessionIdleTimeout)); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to delete expired sessions")
	}
	zerolog.Ctx(ctx).Info().Int64("agent_id", agent.ID).Msg("Agent signed in")
	return token, agent, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func actorOf(a store.Agent) *Actor {
	return &Actor{ID: a.ID, Name: a.Name, Email: a.Email, Role: Role(a.Role)}
}

// sessionActor returns who the session cookie signs in, or nil.
func (h *handler) sessionActor(c *fiber.Ctx) (*Actor, error) {
	token := c.Cookies(h.cookieName)
	if !strings.HasPrefix(token, auth.SessionPrefix) {
		return nil, nil
	}
	ctx := c.UserContext()
	digest := auth.Digest(token)
	now := h.svc.now()
	agent, lastSeen, err := store.SessionAgent(ctx, h.svc.pool, digest, now, now.Add(-h.svc.cfg.SessionIdleTimeout))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	if now.Sub(lastSeen) > touchEvery {
		if err := store.TouchSession(ctx, h.svc.pool, digest, now); err != nil {
			return nil, err
		}
	}
	a := actorOf(agent)
	a.sessionDigest = digest
	return a, nil
}

// tokenActor returns who the request's bearer token acts as, or nil when
// the request has none. A malformed or unknown token is an error: a
// client that sends one wants to know.
func (h *handler) tokenActor(c *fiber.Ctx) (*Actor, error) {
	header := c.Get(fiber.HeaderAuthorization)
	if header == "" {
		return nil, nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(strings.TrimSpace(token), auth.APITokenPrefix) {
		return nil, newError(http.StatusUnauthorized, CodeUnauthenticated, "The Authorization header must be \"Bearer fda_…\".")
	}
	ctx := c.UserContext()
	now := h.svc.now()
	agent, tokenID, lastUsed, err := store.TokenAgent(ctx, h.svc.pool, auth.Digest(strings.TrimSpace(token)), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newError(http.StatusUnauthorized, CodeUnauthenticated, "The API token is unknown, revoked or expired.")
	}
	if err != nil {
		return nil, fmt.Errorf("look up API token: %w", err)
	}
	if lastUsed == nil || now.Sub(*lastUsed) > touchEvery {
		if err := store.TouchAPIToken(ctx, h.svc.pool, tokenID, now); err != nil {
			return nil, err
		}
	}
	a := actorOf(agent)
	a.tokenID = tokenID
	return a, nil
}

func (h *handler) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name:     h.cookieName,
		Value:    token,
		Path:     "/",
		MaxAge:   int(h.svc.cfg.SessionMaxAge / time.Second),
		Secure:   h.secure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (h *handler) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     h.cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Expires:  time.Unix(1, 0),
		Secure:   h.secure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func allows(a *Actor, roles []Role) bool {
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}
