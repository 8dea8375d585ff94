package handoff

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/handoff/auth"
	"github.com/frontdesk/frontdesk/store"
)

// AgentInfo is an agent as admins see it.
type AgentInfo struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func agentInfo(a store.Agent) AgentInfo {
	return AgentInfo{ID: a.ID, Email: a.Email, Name: a.Name, Role: Role(a.Role), Active: a.Active, CreatedAt: a.CreatedAt}
}

func (s *service) agents(ctx context.Context) ([]AgentInfo, error) {
	list, err := store.ListAgents(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	out := make([]AgentInfo, len(list))
	for i, a := range list {
		out[i] = agentInfo(a)
	}
	return out, nil
}

// AgentInput is a new agent.
type AgentInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

func validName(name string) error {
	if name == "" {
		return invalid("Enter a name.")
	}
	if utf8.RuneCountInString(name) > 100 {
		return invalid("The name is too long.")
	}
	return nil
}

func checkRole(role string) error {
	if !validRole(role) {
		return invalid("The role must be admin, agent or social.")
	}
	return nil
}

func checkPassword(pw string) error {
	if err := auth.ValidatePassword(pw); err != nil {
		msg := err.Error()
		return invalid("%s.", strings.ToUpper(msg[:1])+msg[1:])
	}
	return nil
}

func (s *service) createAgent(ctx context.Context, a *Actor, in AgentInput) (AgentInfo, error) {
	email := auth.NormalizeEmail(in.Email)
	name := strings.TrimSpace(in.Name)
	if err := auth.ValidateEmail(email); err != nil {
		return AgentInfo{}, invalid("Enter an e-mail address such as ana@example.com.")
	}
	if err := validName(name); err != nil {
		return AgentInfo{}, err
	}
	if err := checkRole(in.Role); err != nil {
		return AgentInfo{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return AgentInfo{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return AgentInfo{}, err
	}
	var created store.Agent
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		created, err = store.CreateAgent(ctx, tx, store.NewAgent{Email: email, Name: name, Role: in.Role, PasswordHash: hash}, s.now())
		if errors.Is(err, store.ErrDuplicate) {
			return newError(http.StatusConflict, CodeEmailTaken, "Another agent already has this e-mail address.")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "agent_create", 0, 0, map[string]any{"agent_id": created.ID, "name": name, "role": in.Role})
	})
	if err != nil {
		return AgentInfo{}, err
	}
	zerolog.Ctx(ctx).Info().Int64("agent_id", created.ID).Str("role", in.Role).Msg("Agent created")
	return agentInfo(created), nil
}

// AgentChange changes the fields that are set.
type AgentChange struct {
	Name     *string `json:"name,omitempty"`
	Role     *string `json:"role,omitempty"`
	Active   *bool   `json:"active,omitempty"`
	Password *string `json:"password,omitempty"`
}

// updateAgent changes an agent. It refuses to leave the console without an
// active admin. A new password or a deactivation signs the agent out
// everywhere (except the admin's own current session); a deactivation, or
// a move to the comment queue, puts the conversations they held back in
// the queue.
func (s *service) updateAgent(ctx context.Context, a *Actor, id int64, ch AgentChange) (AgentInfo, error) {
	var u store.AgentUpdate
	details := map[string]any{"agent_id": id}
	if ch.Name != nil {
		name := strings.TrimSpace(*ch.Name)
		if err := validName(name); err != nil {
			return AgentInfo{}, err
		}
		u.Name, details["name"] = &name, name
	}
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return AgentInfo{}, err
		}
		u.Role, details["role"] = ch.Role, *ch.Role
	}
	if ch.Active != nil {
		u.Active, details["active"] = ch.Active, *ch.Active
	}
	if ch.Password != nil {
		if err := checkPassword(*ch.Password); err != nil {
			return AgentInfo{}, err
		}
		hash, err := auth.HashPassword(*ch.Password)
		if err != nil {
			return AgentInfo{}, err
		}
		u.PasswordHash, details["password_changed"] = &hash, true
	}
	var updated store.Agent
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		admins, err := store.LockActiveAdmins(ctx, tx)
		if err != nil {
			return err
		}
		current, err := store.AgentByID(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("The agent")
		}
		if err != nil {
			return err
		}
		demoted := u.Role != nil && *u.Role != string(RoleAdmin)
		deactivated := u.Active != nil && !*u.Active
		if slices.Contains(admins, id) && len(admins) == 1 && (demoted || deactivated) {
			return newError(http.StatusConflict, CodeLastAdmin, "%s is the last active admin; make someone else an admin first.", current.Name)
		}
		if updated, err = store.UpdateAgent(ctx, tx, id, u, s.now()); err != nil {
			return err
		}
		if u.PasswordHash != nil || deactivated {
			var keep []byte
			if id == a.ID {
				keep = a.sessionDigest
			}
			if err := store.DeleteAgentSessions(ctx, tx, id, keep); err != nil {
				return err
			}
		}
		if deactivated || (u.Role != nil && Role(*u.Role) == RoleSocial) {
			// Nobody would answer the shoppers they held.
			released, err := store.ReleaseAgentConversations(ctx, tx, id, s.now())
			if err != nil {
				return err
			}
			for _, conv := range released {
				if err := s.audit(ctx, tx, a, "unassign", conv, 0, map[string]any{"from": current.Name}); err != nil {
					return err
				}
				if err := notify(ctx, tx, eventAssignment, conv); err != nil {
					return err
				}
			}
		}
		return s.audit(ctx, tx, a, "agent_update", 0, 0, details)
	})
	if err != nil {
		return AgentInfo{}, err
	}
	return agentInfo(updated), nil
}

// changePassword changes the asking agent's own password, after checking
// the current one, and signs their other sessions out.
func (s *service) changePassword(ctx context.Context, a *Actor, current, next string) error {
	agent, err := store.AgentByID(ctx, s.pool, a.ID)
	if err != nil {
		return err
	}
	if err := auth.VerifyPassword(agent.PasswordHash, current); err != nil {
		return invalid("The current password is wrong.")
	}
	if err := checkPassword(next); err != nil {
		return err
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := store.UpdateAgent(ctx, tx, a.ID, store.AgentUpdate{PasswordHash: &hash}, s.now()); err != nil {
			return err
		}
		if err := store.DeleteAgentSessions(ctx, tx, a.ID, a.sessionDigest); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "password_change", 0, 0, map[string]any{"agent_id": a.ID})
	})
}

// TokenInfo is an API token as admins see it (never the token itself).
type TokenInfo struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Agent      AgentRef   `json:"agent"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Active     bool       `json:"active"`
}

func (s *service) tokenInfo(t store.APIToken) TokenInfo {
	return TokenInfo{
		ID: t.ID, Name: t.Name, Agent: AgentRef{ID: t.AgentID, Name: t.AgentName}, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt,
		Active: t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(s.now())),
	}
}

func (s *service) tokens(ctx context.Context) ([]TokenInfo, error) {
	list, err := store.ListAPITokens(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, len(list))
	for i, t := range list {
		out[i] = s.tokenInfo(t)
	}
	return out, nil
}

// TokenInput is a token to create.
type TokenInput struct {
	Name string `json:"name"`
	// AgentID is the agent the token acts as; zero means the admin asking.
	AgentID int64 `json:"agent_id,omitempty"`
	// ExpiresInDays: zero means the token does not expire.
	ExpiresInDays int `json:"expires_in_days,omitempty"`
}

// createToken makes an API token and returns it; it is shown this once.
func (s *service) createToken(ctx context.Context, a *Actor, in TokenInput) (string, TokenInfo, error) {
	name := strings.TrimSpace(in.Name)
	if err := validName(name); err != nil {
		return "", TokenInfo{}, invalid("Name the token after what will use it.")
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 3650 {
		return "", TokenInfo{}, invalid("Expiry must be between 0 (never) and 3650 days.")
	}
	agentID := in.AgentID
	if agentID == 0 {
		agentID = a.ID
	}
	agent, err := store.AgentByID(ctx, s.pool, agentID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !agent.Active) {
		return "", TokenInfo{}, invalid("Choose an active agent for the token to act as.")
	}
	if err != nil {
		return "", TokenInfo{}, err
	}
	token, digest, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		return "", TokenInfo{}, err
	}
	now := s.now()
	var expires *time.Time
	if in.ExpiresInDays > 0 {
		e := now.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)
		expires = &e
	}
	var created store.APIToken
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		created, err = store.CreateAPIToken(ctx, tx, store.NewAPIToken{AgentID: agentID, Name: name, TokenHash: digest,
			CreatedBy: &a.ID, ExpiresAt: expires}, now)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token_create", 0, 0, map[string]any{"token_id": created.ID, "name": name, "agent_id": agentID})
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return token, s.tokenInfo(created), nil
}

func (s *service) revokeToken(ctx context.Context, a *Actor, id int64) (TokenInfo, error) {
	var revoked store.APIToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		revoked, err = store.RevokeAPIToken(ctx, tx, id, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return notFound("The token")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token_revoke", 0, 0, map[string]any{"token_id": id})
	})
	return s.tokenInfo(revoked), err
}

// CreateAgent adds an agent from outside the console — the command line —
// with the console's checks. The audit log records no acting agent.
func CreateAgent(ctx context.Context, pool *pgxpool.Pool, in AgentInput) (AgentInfo, error) {
	s := &service{pool: pool, cfg: Config{}.withDefaults(), now: time.Now}
	return s.createAgent(ctx, nil, in)
}

// SetPassword gives the agent with this e-mail address a new password, from
// outside the console (a forgotten password, a locked-out admin), and
// signs them out everywhere.
func SetPassword(ctx context.Context, pool *pgxpool.Pool, email, password string) error {
	s := &service{pool: pool, cfg: Config{}.withDefaults(), now: time.Now}
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		agent, err := store.AgentByEmail(ctx, tx, auth.NormalizeEmail(email))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("An agent with this e-mail address")
		}
		if err != nil {
			return err
		}
		if _, err := store.UpdateAgent(ctx, tx, agent.ID, store.AgentUpdate{PasswordHash: &hash}, s.now()); err != nil {
			return err
		}
		if err := store.DeleteAgentSessions(ctx, tx, agent.ID, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, nil, "agent_update", 0, 0, map[string]any{"agent_id": agent.ID, "password_changed": true})
	})
}

// ListAgents returns every agent, active ones first.
func ListAgents(ctx context.Context, pool *pgxpool.Pool) ([]AgentInfo, error) {
	s := &service{pool: pool}
	return s.agents(ctx)
}
