package modjo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSignals connects receivers that append each signal to the Hooked instance's log.
func logSignals(reg *model.Registry, fail model.Signal) {
	names := map[model.Signal]string{model.PreSave: "PreSave", model.PostSave: "PostSave", model.PreDelete: "PreDelete", model.PostDelete: "PostDelete"}
	for s, name := range names {
		reg.Connect(s, func(_ context.Context, e *model.Event) error {
			h := e.Instance.(*Hooked)
			h.Log = append(h.Log, name)
			if s == fail {
				return errHook
			}
			return nil
		}, Hooked{})
	}
}

func TestHooksAndSignalsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Hooked{})
	logSignals(db.Registry(), 0)

	h := &Hooked{Name: "x"}
	require.NoError(t, db.Save(ctx, h))
	assert.Equal(t, []string{"BeforeSave", "PreSave", "PostSave", "AfterSave"}, h.Log)

	h.Log = nil
	require.NoError(t, db.Delete(ctx, h))
	assert.Equal(t, []string{"BeforeDelete", "PreDelete", "PostDelete", "AfterDelete"}, h.Log)
}

func TestHooksCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	for _, tc := range []struct {
		fail    string
		signal  model.Signal
		written bool // the write happened before the failure
	}{
		{fail: "BeforeSave"},
		{signal: model.PreSave},
		{signal: model.PostSave, written: true},
		{fail: "AfterSave", written: true},
	} {
		db := newDB(t, Hooked{})
		logSignals(db.Registry(), tc.signal)
		h := &Hooked{Name: "x", FailOn: tc.fail}
		err := db.Save(ctx, h)
		require.ErrorIs(t, err, errHook, "%s%d", tc.fail, tc.signal)
		assert.Contains(t, err.Error(), "Hooked")
		assert.Equal(t, tc.written, count(t, db, Hooked{}) == 1, "%s%d", tc.fail, tc.signal)
		if !tc.written {
			assert.True(t, h.ID.IsZero(), "a cancelled insert leaves no key")
		}
	}

	for _, tc := range []struct {
		fail    string
		signal  model.Signal
		deleted bool
	}{
		{fail: "BeforeDelete"},
		{signal: model.PreDelete},
		{signal: model.PostDelete, deleted: true},
		{fail: "AfterDelete", deleted: true},
	} {
		db := newDB(t, Hooked{})
		h := &Hooked{Name: "x"}
		require.NoError(t, db.Save(ctx, h))
		logSignals(db.Registry(), tc.signal)
		h.FailOn = tc.fail
		err := db.Delete(ctx, h)
		require.ErrorIs(t, err, errHook, "%s%d", tc.fail, tc.signal)
		assert.Equal(t, tc.deleted, count(t, db, Hooked{}) == 0, "%s%d", tc.fail, tc.signal)
	}
}

func TestSignals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{}, Author{})
	reg := db.Registry()

	type seen struct {
		signal  model.Signal
		model   string
		created bool
		fields  []string
	}
	var got []seen
	record := func(_ context.Context, e *model.Event) error {
		got = append(got, seen{e.Signal, e.Meta.Name, e.Created, e.UpdateFields})
		return nil
	}
	var disconnect []func()
	for _, s := range []model.Signal{model.PreSave, model.PostSave, model.PreDelete, model.PostDelete} {
		disconnect = append(disconnect, reg.Connect(s, record, Book{}))
	}
	var any int
	disconnect = append(disconnect, reg.Connect(model.PostSave, func(context.Context, *model.Event) error { any++; return nil }))

	b := &Book{Title: "t"}
	require.NoError(t, db.Save(ctx, b))
	require.NoError(t, db.Save(ctx, b))
	require.NoError(t, db.Save(ctx, b, modjo.UpdateFields("title")))
	require.NoError(t, db.Save(ctx, &Author{Email: "a@example.com"}))
	require.NoError(t, db.Delete(ctx, b))

	assert.Equal(t, []seen{
		{model.PreSave, "Book", false, nil},
		{model.PostSave, "Book", true, nil},
		{model.PreSave, "Book", false, nil},
		{model.PostSave, "Book", false, nil},
		{model.PreSave, "Book", false, []string{"title"}},
		{model.PostSave, "Book", false, []string{"title"}},
		{model.PreDelete, "Book", false, nil},
		{model.PostDelete, "Book", false, nil},
	}, got, "receivers connected for Book see only Book")
	assert.Equal(t, 4, any, "a receiver without senders sees every model")

	for _, d := range disconnect {
		d()
	}
	got = nil
	require.NoError(t, db.Save(ctx, &Book{Title: "quiet"}))
	assert.Empty(t, got)
	assert.Equal(t, 4, any)
}

func TestAfterHookErrorIsReturned(t *testing.T) {
	t.Parallel()
	db := newDB(t, Hooked{})
	h := &Hooked{Name: "x", FailOn: "AfterSave"}
	err := db.Save(context.Background(), h)
	require.True(t, errors.Is(err, errHook))
	assert.False(t, h.ID.IsZero(), "the write happened and the key stays")
}
