package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Agent is a row of agents: a person who signs in to the console.
type Agent struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	PasswordHash string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const agentColumns = `a.id, a.email, a.name, a.role, a.password_hash, a.active, a.created_at, a.updated_at`

func scanAgent(row interface{ Scan(...any) error }, extra ...any) (Agent, error) {
	var a Agent
	dest := append([]any{&a.ID, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.Active, &a.CreatedAt, &a.UpdatedAt}, extra...)
	return a, interpret(row.Scan(dest...))
}

// NewAgent is an agent to create. Email must already be lower-cased.
type NewAgent struct {
	Email        string
	Name         string
	Role         string
	PasswordHash string
}

// CreateAgent inserts an agent. It returns ErrDuplicate when the e-mail
// address is taken.
func CreateAgent(ctx context.Context, db DBTX, a NewAgent, now time.Time) (Agent, error) {
	agent, err := scanAgent(db.QueryRow(ctx, `INSERT INTO agents AS a (email, name, role, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+agentColumns, a.Email, a.Name, a.Role, a.PasswordHash, now))
	if err != nil {
		return Agent{}, fmt.Errorf("create agent: %w", err)
	}
	return agent, nil
}

// AgentByID returns one agent, or ErrNotFound.
func AgentByID(ctx context.Context, db DBTX, id int64) (Agent, error) {
	return scanAgent(db.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a WHERE a.id = $1`, id))
}

// AgentByEmail returns the agent with this (lower-cased) address, or ErrNotFound.
func AgentByEmail(ctx context.Context, db DBTX, email string) (Agent, error) {
	return scanAgent(db.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a WHERE a.email = $1`, email))
}

// ListAgents returns every agent, active ones first, by name.
func ListAgents(ctx context.Context, db DBTX) ([]Agent, error) {
	rows, err := db.Query(ctx, `SELECT `+agentColumns+` FROM agents a ORDER BY NOT a.active, lower(a.name), a.id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Agent, error) { return scanAgent(row) })
}

// AgentUpdate changes the fields that are not nil.
type AgentUpdate struct {
	Name         *string
	Role         *string
	Active       *bool
	PasswordHash *string
}

// UpdateAgent applies u to agent id and returns the result, or ErrNotFound.
func UpdateAgent(ctx context.Context, db DBTX, id int64, u AgentUpdate, now time.Time) (Agent, error) {
	agent, err := scanAgent(db.QueryRow(ctx, `UPDATE agents AS a SET
			name = COALESCE($2, a.name), role = COALESCE($3, a.role), active = COALESCE($4, a.active),
			password_hash = COALESCE($5, a.password_hash), updated_at = $6
		WHERE a.id = $1 RETURNING `+agentColumns, id, u.Name, u.Role, u.Active, u.PasswordHash, now))
	if err != nil {
		return Agent{}, fmt.Errorf("update agent: %w", err)
	}
	return agent, nil
}

// LockActiveAdmins locks the rows of the active admins until db's
// transaction ends and returns their ids. Callers that could remove the
// last admin (a demotion, a deactivation) take it first, so two admins
// demoting each other at once cannot both succeed. The lock (FOR NO KEY
// UPDATE) does not block rows that merely reference an admin, such as the
// audit entries and messages of their work.
func LockActiveAdmins(ctx context.Context, db DBTX) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM agents WHERE role = 'admin' AND active ORDER BY id FOR NO KEY UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("lock admins: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Session is a row of agent_sessions.
type Session struct {
	TokenHash  []byte
	AgentID    int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	IP         string
}

// CreateSession stores a new session.
func CreateSession(ctx context.Context, db DBTX, s Session) error {
	_, err := db.Exec(ctx, `INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at, last_seen_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.TokenHash, s.AgentID, s.CreatedAt, s.ExpiresAt, s.LastSeenAt, s.UserAgent, s.IP)
	if err != nil {
		return fmt.Errorf("create session: %w", interpret(err))
	}
	return nil
}

// SessionAgent returns the active agent signed in by the session whose
// token hashes to tokenHash, with the time the session was last seen. A
// session past expiresAt, or not seen since idleSince, does not count: it
// returns ErrNotFound, like an unknown one.
func SessionAgent(ctx context.Context, db DBTX, tokenHash []byte, now, idleSince time.Time) (Agent, time.Time, error) {
	var lastSeen time.Time
	a, err := scanAgent(db.QueryRow(ctx, `SELECT `+agentColumns+`, s.last_seen_at
		FROM agent_sessions s JOIN agents a ON a.id = s.agent_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND a.active`,
		tokenHash, now, idleSince), &lastSeen)
	return a, lastSeen, err
}

// TouchSession records that the session was used at now.
func TouchSession(ctx context.Context, db DBTX, tokenHash []byte, now time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE agent_sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, now); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession signs a session out.
func DeleteSession(ctx context.Context, db DBTX, tokenHash []byte) error {
	if _, err := db.Exec(ctx, `DELETE FROM agent_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteAgentSessions signs the agent out everywhere except the session
// keepTokenHash (nil: everywhere).
func DeleteAgentSessions(ctx context.Context, db DBTX, agentID int64, keepTokenHash []byte) error {
	_, err := db.Exec(ctx, `DELETE FROM agent_sessions WHERE agent_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`,
		agentID, keepTokenHash)
	if err != nil {
		return fmt.Errorf("delete agent sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that can no longer sign anyone in.
func DeleteExpiredSessions(ctx context.Context, db DBTX, now, idleSince time.Time) error {
	_, err := db.Exec(ctx, `DELETE FROM agent_sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, idleSince)
	if err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}

// APIToken is a row of api_tokens, with its agent's name.
type APIToken struct {
	ID         int64
	AgentID    int64
	AgentName  string
	Name       string
	CreatedBy  *int64
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

const apiTokenSelect = `SELECT t.id, t.agent_id, a.name, t.name, t.created_by, t.created_at, t.expires_at,
	t.last_used_at, t.revoked_at FROM api_tokens t JOIN agents a ON a.id = t.agent_id `

func scanAPIToken(row interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	err := row.Scan(&t.ID, &t.AgentID, &t.AgentName, &t.Name, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt,
		&t.LastUsedAt, &t.RevokedAt)
	return t, interpret(err)
}

// NewAPIToken is a token to store.
type NewAPIToken struct {
	AgentID   int64
	Name      string
	TokenHash []byte
	CreatedBy *int64
	ExpiresAt *time.Time
}

// CreateAPIToken stores a token and returns its row.
func CreateAPIToken(ctx context.Context, db DBTX, t NewAPIToken, now time.Time) (APIToken, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO api_tokens (agent_id, name, token_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, t.AgentID, t.Name, t.TokenHash, t.CreatedBy, now, t.ExpiresAt).Scan(&id)
	if err != nil {
		return APIToken{}, fmt.Errorf("create API token: %w", interpret(err))
	}
	return scanAPIToken(db.QueryRow(ctx, apiTokenSelect+`WHERE t.id = $1`, id))
}

// ListAPITokens returns every token, newest first.
func ListAPITokens(ctx context.Context, db DBTX) ([]APIToken, error) {
	rows, err := db.Query(ctx, apiTokenSelect+`ORDER BY t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) { return scanAPIToken(row) })
}

// TokenAgent returns the active agent a live token acts as, the token's id
// and when it was last used; ErrNotFound for an unknown, revoked or
// expired token or a deactivated agent.
func TokenAgent(ctx context.Context, db DBTX, tokenHash []byte, now time.Time) (Agent, int64, *time.Time, error) {
	var tokenID int64
	var lastUsed *time.Time
	a, err := scanAgent(db.QueryRow(ctx, `SELECT `+agentColumns+`, t.id, t.last_used_at
		FROM api_tokens t JOIN agents a ON a.id = t.agent_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND a.active`,
		tokenHash, now), &tokenID, &lastUsed)
	return a, tokenID, lastUsed, err
}

// TouchAPIToken records that token id was used at now.
func TouchAPIToken(ctx context.Context, db DBTX, id int64, now time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, now); err != nil {
		return fmt.Errorf("touch API token: %w", err)
	}
	return nil
}

// RevokeAPIToken revokes token id; revoking twice keeps the first time.
// It returns ErrNotFound for an unknown id.
func RevokeAPIToken(ctx context.Context, db DBTX, id int64, now time.Time) (APIToken, error) {
	tag, err := db.Exec(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now)
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke API token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return APIToken{}, ErrNotFound
	}
	return scanAPIToken(db.QueryRow(ctx, apiTokenSelect+`WHERE t.id = $1`, id))
}

// LockSignInKeys serializes sign-in attempts for the same e-mail key or
// IP address until db's transaction ends, so that concurrent attempts are
// counted one after another (pg_advisory_xact_lock, taken in a fixed order).
func LockSignInKeys(ctx context.Context, db DBTX, emailKey []byte, ip string) error {
	_, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM (
			SELECT hashtextextended('sign_in_email:' || encode($1::bytea, 'hex'), 0) AS k
			UNION SELECT hashtextextended('sign_in_ip:' || $2, 0)) keys ORDER BY k`, emailKey, ip)
	if err != nil {
		return fmt.Errorf("lock sign-in keys: %w", err)
	}
	return nil
}

// SignInFailures counts the failed attempts since since, for the e-mail key
// and for the IP address, and returns the oldest failure of each.
func SignInFailures(ctx context.Context, db DBTX, emailKey []byte, ip string, since time.Time) (byEmail, byIP int, oldestEmail, oldestIP *time.Time, err error) {
	err = db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM sign_in_attempts WHERE email_key = $1 AND NOT succeeded AND at > $3),
			(SELECT count(*) FROM sign_in_attempts WHERE ip = $2 AND NOT succeeded AND at > $3),
			(SELECT min(at) FROM sign_in_attempts WHERE email_key = $1 AND NOT succeeded AND at > $3),
			(SELECT min(at) FROM sign_in_attempts WHERE ip = $2 AND NOT succeeded AND at > $3)`,
		emailKey, ip, since).Scan(&byEmail, &byIP, &oldestEmail, &oldestIP)
	if err != nil {
		err = fmt.Errorf("count sign-in failures: %w", err)
	}
	return byEmail, byIP, oldestEmail, oldestIP, err
}

// InsertSignInAttempt records an attempt as failed (until
// MarkSignInSucceeded) and prunes attempts older than pruneBefore.
func InsertSignInAttempt(ctx context.Context, db DBTX, emailKey []byte, ip string, now, pruneBefore time.Time) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `WITH pruned AS (DELETE FROM sign_in_attempts WHERE at < $4)
		INSERT INTO sign_in_attempts (email_key, ip, at) VALUES ($1, $2, $3) RETURNING id`,
		emailKey, ip, now, pruneBefore).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record sign-in attempt: %w", err)
	}
	return id, nil
}

// MarkSignInSucceeded records that attempt id signed in.
func MarkSignInSucceeded(ctx context.Context, db DBTX, id int64) error {
	if _, err := db.Exec(ctx, `UPDATE sign_in_attempts SET succeeded = true WHERE id = $1`, id); err != nil {
		return fmt.Errorf("record sign-in success: %w", err)
	}
	return nil
}
