package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/store"
)

// decodeJSON reads a JSON request body into v, strictly. An empty body
// leaves v as it is, for requests whose fields are all optional.
func decodeJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if ct := c.Get(fiber.HeaderContentType); !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedType, "Send the request body as application/json.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newError(http.StatusBadRequest, CodeInvalid, "The request body is not valid: %s.", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, CodeInvalid, "The request body has data after the JSON object.")
	}
	return nil
}

func (h *handler) conversationInfo(ctx context.Context, id int64) (ConversationInfo, error) {
	conv, err := store.ConsoleConversationByID(ctx, h.svc.pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return ConversationInfo{}, notFound("The conversation")
	}
	if err != nil {
		return ConversationInfo{}, err
	}
	return ConversationInfo{
		ID: conv.ID, CustomerID: conv.CustomerID, Channel: conv.Platform, Status: conv.Status,
		Reason: conv.HandoffReason, Priority: conv.Priority, Assignee: agentRef(conv.AssigneeID, conv.AssigneeName),
		HandedOffAt: conv.HandedOffAt, LastInboundAt: conv.LastInboundAt, FirstResponseAt: conv.FirstResponseAt,
		ResolvedAt: conv.ResolvedAt, CSATRequestedAt: conv.CSATRequestedAt, CSATScore: conv.CSATScore,
	}, nil
}

// respondConversation answers an action with the conversation's new state.
func (h *handler) respondConversation(c *fiber.Ctx, id int64, err error) error {
	if err != nil {
		return err
	}
	info, err := h.conversationInfo(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conversation": info})
}

func (h *handler) apiMe(c *fiber.Ctx, a *Actor) error {
	return c.JSON(a)
}

func (h *handler) apiQueue(c *fiber.Ctx, a *Actor) error {
	v, _, err := h.loadQueue(c.UserContext(), a, func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (h *handler) apiThread(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.thread(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (h *handler) apiClaim(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.respondConversation(c, id, h.svc.claim(c.UserContext(), a, id))
}

func (h *handler) apiAssign(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		AgentID int64 `json:"agent_id"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	return h.respondConversation(c, id, h.svc.assign(c.UserContext(), a, id, in.AgentID))
}

func (h *handler) apiUnassign(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.respondConversation(c, id, h.svc.unassign(c.UserContext(), a, id))
}

func (h *handler) apiTakeOver(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.respondConversation(c, id, h.svc.takeOver(c.UserContext(), a, id))
}

func (h *handler) apiHandBack(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.respondConversation(c, id, h.svc.handBack(c.UserContext(), a, id))
}

type textInput struct {
	Text string `json:"text"`
}

func (h *handler) apiReply(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Text        string            `json:"text"`
		Attachments []AttachmentInput `json:"attachments"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.reply(c.UserContext(), a, id, in.Text, in.Attachments)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(res)
}

func (h *handler) apiNote(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in textInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	noteID, err := h.svc.note(c.UserContext(), a, id, in.Text)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"note_id": noteID})
}

func (h *handler) apiResolve(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := struct {
		AskCSAT *bool `json:"ask_csat"`
	}{}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ask := in.AskCSAT == nil || *in.AskCSAT
	res, err := h.svc.resolve(c.UserContext(), a, id, ask)
	if err != nil {
		return err
	}
	info, err := h.conversationInfo(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conversation": info, "result": res})
}

func (h *handler) apiLink(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		FromCustomerID int64 `json:"from_customer_id"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.linkCustomers(c.UserContext(), a, id, in.FromCustomerID)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *handler) apiAgents(c *fiber.Ctx, _ *Actor) error {
	agents, err := h.svc.agents(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agents": agents})
}

func (h *handler) apiCreateAgent(c *fiber.Ctx, a *Actor) error {
	var in AgentInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	created, err := h.svc.createAgent(c.UserContext(), a, in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(created)
}

func (h *handler) apiUpdateAgent(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var ch AgentChange
	if err := decodeJSON(c, &ch); err != nil {
		return err
	}
	updated, err := h.svc.updateAgent(c.UserContext(), a, id, ch)
	if err != nil {
		return err
	}
	return c.JSON(updated)
}

func (h *handler) apiTokens(c *fiber.Ctx, _ *Actor) error {
	tokens, err := h.svc.tokens(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tokens": tokens})
}

func (h *handler) apiCreateToken(c *fiber.Ctx, a *Actor) error {
	var in TokenInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	token, info, err := h.svc.createToken(c.UserContext(), a, in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"token": token, "info": info})
}

func (h *handler) apiRevokeToken(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	info, err := h.svc.revokeToken(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	return c.JSON(info)
}
