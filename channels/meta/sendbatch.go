package meta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/huandu/facebook/v2"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
)

// graphBatchMax is the most calls one Graph API batch request may carry.
const graphBatchMax = 50

// SendBatch delivers outs as Send does, several messages of one channel in
// one Graph API batch request (POST /{version}/ with batch=[…], at most 50
// calls; https://developers.facebook.com/docs/graph-api/batch-requests),
// which saves an HTTP request per message. Each call in the batch has its
// own answer, classified as Send's errors; an error of the batch request
// itself is every message's error. A message that takes several Send API
// calls (long text, attachments), and a channel's only message, go as
// single calls, as Send's.
func (a *Adapter) SendBatch(ctx context.Context, outs []conversation.Outbound) ([]channels.SendResult, []error) {
	results := make([]channels.SendResult, len(outs))
	errs := make([]error, len(outs))
	calls := make([]facebook.Params, len(outs))
	var channelOrder []string
	byChannel := map[string][]int{}
	for i, out := range outs {
		parts, err := sendParts(out)
		switch {
		case err != nil:
			errs[i] = err
		case unsentFrom(out.FromPart, len(parts)) < len(parts)-1:
			results[i], errs[i] = a.sendCalls(ctx, out.ChannelID, parts, out.FromPart)
		default: // one call left to make
			if _, ok := byChannel[out.ChannelID]; !ok {
				channelOrder = append(channelOrder, out.ChannelID)
			}
			byChannel[out.ChannelID] = append(byChannel[out.ChannelID], i)
			calls[i] = parts[len(parts)-1]
		}
	}
	for _, channelID := range channelOrder {
		for indexes := byChannel[channelID]; len(indexes) > 0; {
			n := min(len(indexes), graphBatchMax)
			if i := indexes[0]; n == 1 {
				results[i], errs[i] = a.sendCalls(ctx, channelID, calls[i:i+1], 0)
			} else {
				a.sendBatch(ctx, channelID, indexes[:n], calls, results, errs)
			}
			indexes = indexes[n:]
		}
	}
	return results, errs
}

// sendBatch makes the Send API calls calls[i], i in indexes, in one batch
// request as channelID, and stores each one's result or error at i.
func (a *Adapter) sendBatch(ctx context.Context, channelID string, indexes []int, calls []facebook.Params, results []channels.SendResult, errs []error) {
	fail := func(err error) {
		for _, i := range indexes {
			errs[i] = err
		}
	}
	call, rec, err := a.recordedCall(ctx, channelID)
	if err != nil {
		fail(err)
		return
	}
	batch := make([]facebook.Params, len(indexes))
	for j, i := range indexes {
		var body bytes.Buffer
		if _, err := calls[i].Encode(&body); err != nil {
			fail(&channels.PermanentError{Reason: "encode Send API call: " + err.Error(), Err: channels.ErrPermanent})
			return
		}
		batch[j] = facebook.Params{"method": "POST", "relative_url": channelID + "/messages", "body": body.String()}
	}
	answers, err := call.BatchApi(batch...)
	if err := callOutcome(rec.status, rec.header, err); err != nil {
		fail(err)
		return
	}
	for j, i := range indexes {
		if j >= len(answers) {
			errs[i] = fmt.Errorf("transient Graph API error: the batch answered %d of %d calls", len(answers), len(indexes))
			continue
		}
		answer, err := batchAnswerOf(answers[j])
		if err != nil {
			errs[i] = fmt.Errorf("transient Graph API error: no answer to this call of the batch: %w", err)
			continue
		}
		res, err := facebook.MakeResult([]byte(answer.body))
		if err == nil {
			err = res.Err()
		}
		if errs[i] = callOutcome(answer.status, answer.header, err); errs[i] != nil {
			continue
		}
		mid, err := sendMessageID(res)
		results[i], errs[i] = channels.SendResult{PlatformMessageID: mid}, err
	}
}

// batchAnswer is one call's answer in a batch response.
type batchAnswer struct {
	status int
	header http.Header
	body   string
}

// batchAnswerOf reads one call's answer ({code, headers, body}); Meta
// answers null for a call it did not finish in time. The body is read as
// it is: huandu's BatchResult would refuse one that is not JSON, such as
// an HTML error page, which classify reads by its status.
func batchAnswerOf(res facebook.Result) (batchAnswer, error) {
	var a batchAnswer
	if res == nil {
		return a, errors.New("null answer")
	}
	var headers []struct{ Name, Value string }
	if err := res.DecodeField("code", &a.status); err != nil {
		return a, err
	}
	if err := res.DecodeField("body", &a.body); err != nil {
		return a, err
	}
	_ = res.DecodeField("headers", &headers) // absent with include_headers=false
	a.header = make(http.Header, len(headers))
	for _, h := range headers {
		a.header.Add(h.Name, h.Value)
	}
	return a, nil
}
