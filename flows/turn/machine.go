package turn

import (
	"slices"

	"github.com/looplab/fsm"
)

// Payloads every flow may offer.
const (
	PayloadTrack  = "MENU_TRACK"
	PayloadReturn = "MENU_RETURN"
	PayloadDamage = "MENU_DAMAGE"
	PayloadPerson = "MENU_PERSON"
)

// WithHandoff adds the hand-off transition from every state of events:
// a person is always one message away.
func WithHandoff(events fsm.Events) fsm.Events {
	all := States(events)
	return append(slices.Clone(events), fsm.EventDesc{Name: EventHandoff, Src: all, Dst: StateHandedOff})
}

// States lists the states events name, sorted.
func States(events fsm.Events) []string {
	var states []string
	for _, e := range events {
		for _, s := range append(slices.Clone(e.Src), e.Dst) {
			if !slices.Contains(states, s) {
				states = append(states, s)
			}
		}
	}
	if !slices.Contains(states, StateHandedOff) {
		states = append(states, StateHandedOff)
	}
	slices.Sort(states)
	return states
}

// PersonOption offers a person.
func (t *Turn) PersonOption() Option {
	return Option{Title: t.T("menu_person"), Payload: PayloadPerson}
}
