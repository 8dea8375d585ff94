package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// ConsoleChannel is the PostgreSQL notification channel the agent console
// listens on, in every process.
const ConsoleChannel = "frontdesk_console"

// ConsoleEvent tells consoles that a conversation changed.
type ConsoleEvent struct {
	Type           string `json:"type"` // message, handoff, assignment, status
	ConversationID int64  `json:"conversation_id"`
}

// NotifyConsole announces ev when db's transaction commits (NOTIFY is
// transactional), so a console never sees a change that was rolled back.
func NotifyConsole(ctx context.Context, db DBTX, ev ConsoleEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode console event: %w", err)
	}
	if _, err := db.Exec(ctx, `SELECT pg_notify($1, $2)`, ConsoleChannel, string(payload)); err != nil {
		return fmt.Errorf("notify console: %w", err)
	}
	return nil
}

// NotifyConsoleOf announces a "message" change — a delivery state — of
// each of the conversations that people own or owned; the bot's own
// conversations are left out, as no console shows them live.
func NotifyConsoleOf(ctx context.Context, db DBTX, conversationIDs []int64) error {
	if len(conversationIDs) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `SELECT pg_notify($1, json_build_object('type', 'message', 'conversation_id', id)::text)
		FROM conversations WHERE id = ANY($2) AND status <> 'bot'`, ConsoleChannel, conversationIDs)
	if err != nil {
		return fmt.Errorf("notify console: %w", err)
	}
	return nil
}
