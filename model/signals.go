package model

import (
	"context"
	"reflect"
	"slices"
)

// Signal names a model lifecycle event, as Django's pre_save, post_save, pre_delete and
// post_delete signals.
type Signal int

// The signals.
const (
	PreSave Signal = iota + 1
	PostSave
	PreDelete
	PostDelete
)

// String returns Django's name of the signal, such as "pre_save".
func (s Signal) String() string {
	switch s {
	case PreSave:
		return "pre_save"
	case PostSave:
		return "post_save"
	case PreDelete:
		return "pre_delete"
	case PostDelete:
		return "post_delete"
	}
	return "Signal(?)"
}

// Event is what a receiver gets.
type Event struct {
	Signal   Signal
	Meta     *Meta
	Instance any // pointer to the model instance
	// Created is true for a PostSave that inserted the instance.
	Created bool
	// UpdateFields names the fields a save wrote, when it wrote only some.
	UpdateFields []string
}

// Receiver handles a signal. An error stops Send and is returned by it.
type Receiver func(ctx context.Context, e *Event) error

type receiver struct {
	id      uint64
	fn      Receiver
	senders []reflect.Type // nil: every model
}

// Connect subscribes fn to a signal, for the given sender models only (model values, or
// reflect.Types) or for all models when none are given. Receivers run in the order they
// were connected. The returned function disconnects fn; calling it again does nothing.
// Connect is safe for concurrent use.
func (r *Registry) Connect(s Signal, fn Receiver, senders ...any) (disconnect func()) {
	var types []reflect.Type
	for _, v := range senders {
		t, ok := v.(reflect.Type)
		if !ok {
			if v == nil {
				continue
			}
			t = reflect.TypeOf(v)
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		types = append(types, t)
	}
	r.sigMu.Lock()
	defer r.sigMu.Unlock()
	if r.receivers == nil {
		r.receivers = map[Signal][]receiver{}
	}
	r.nextRecv++
	id := r.nextRecv
	// Copy on write so Send can iterate a snapshot without holding the lock.
	list := slices.Clone(r.receivers[s])
	r.receivers[s] = append(list, receiver{id: id, fn: fn, senders: types})
	return func() {
		r.sigMu.Lock()
		defer r.sigMu.Unlock()
		list := r.receivers[s]
		if i := slices.IndexFunc(list, func(x receiver) bool { return x.id == id }); i >= 0 {
			r.receivers[s] = slices.Delete(slices.Clone(list), i, i+1)
		}
	}
}

// HasReceivers reports whether any receiver listens to s for m, so callers can skip
// building events nobody reads.
func (r *Registry) HasReceivers(s Signal, m *Meta) bool {
	r.sigMu.RLock()
	list := r.receivers[s]
	r.sigMu.RUnlock()
	for _, rc := range list {
		if rc.matches(m) {
			return true
		}
	}
	return false
}

func (rc receiver) matches(m *Meta) bool {
	if len(rc.senders) == 0 {
		return true
	}
	if m == nil {
		return false
	}
	return slices.Contains(rc.senders, m.Type)
}

// Send delivers e to the receivers of e.Signal that match e.Meta, in connection order;
// the first error stops delivery and is returned. Send is safe for concurrent use.
func (r *Registry) Send(ctx context.Context, e *Event) error {
	r.sigMu.RLock()
	list := r.receivers[e.Signal]
	r.sigMu.RUnlock()
	for _, rc := range list {
		if !rc.matches(e.Meta) {
			continue
		}
		if err := rc.fn(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
