package model

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type pItem struct {
	Embedded
	Qty   int       `modjo:"default=1"`
	Added time.Time `modjo:"auto_now_add"`
}

type pModel struct {
	Model
	Status   string           `modjo:"default=draft"`
	Priority *int             `modjo:"default=3"`
	Flag     *bool            `modjo:"default=true"`
	Tags     []string         `modjo:"default=a|b"`
	Meta     map[string]any   `modjo:"default={\"v\": 1}"`
	Token    kUUID            `modjo:"default=new"`
	Created  time.Time        `modjo:"auto_now_add"`
	Updated  *time.Time       `modjo:"auto_now"`
	Day      fields.Date      `modjo:"auto_now_add"`
	At       fields.TimeOfDay `modjo:"auto_now"`
	When     time.Time
	Item     pItem
	Items    []pItem
	ItemP    *pItem
}

type pUUID struct {
	Base
	Key  kUUID `modjo:"primary_key"`
	Name string
}

func TestPrepareSave(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(pModel{}, pUUID{}))
	m := mustMeta(t, r, pModel{})
	now := time.Date(2024, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	ms := time.Date(2024, 3, 4, 4, 6, 7, 891000000, time.UTC)
	when := time.Date(2020, 1, 1, 0, 0, 0, 999999999, time.FixedZone("X", -7200))
	off := false
	v := &pModel{Flag: &off, When: when, Items: []pItem{{}, {Qty: 5}}, ItemP: &pItem{}}
	require.NoError(t, m.PrepareSave(v, true, now))
	assert.False(t, v.ID.IsZero(), "a new ObjectID")
	assert.Equal(t, "draft", v.Status)
	require.NotNil(t, v.Priority)
	assert.Equal(t, 3, *v.Priority)
	assert.False(t, *v.Flag, "a pointer keeps an explicit zero value over the default")
	assert.Equal(t, []string{"a", "b"}, v.Tags)
	assert.Equal(t, map[string]any{"v": int32(1)}, v.Meta)
	assert.NotEqual(t, kUUID{}, v.Token)
	assert.Equal(t, ms, v.Created)
	require.NotNil(t, v.Updated)
	assert.Equal(t, ms, *v.Updated)
	assert.Equal(t, fields.Date{Year: 2024, Month: 3, Day: 4}, v.Day)
	assert.Equal(t, fields.NewTimeOfDay(4, 6, 7, 891000), v.At)
	assert.Equal(t, time.Date(2020, 1, 1, 2, 0, 0, 999000000, time.UTC), v.When, "every time is truncated to ms, in UTC")
	assert.Equal(t, 1, v.Item.Qty, "defaults inside embedded models")
	assert.Equal(t, ms, v.Item.Added)
	assert.Equal(t, 1, v.Items[0].Qty)
	assert.Equal(t, 5, v.Items[1].Qty)
	assert.Equal(t, ms, v.Items[1].Added)
	assert.Equal(t, 1, v.ItemP.Qty)

	// Updating: auto_now only; defaults, auto_now_add and the pk stay.
	id := v.ID
	v.Status = ""
	later := now.Add(time.Hour)
	require.NoError(t, m.PrepareSave(v, false, later))
	assert.Equal(t, id, v.ID)
	assert.Equal(t, "", v.Status)
	assert.Equal(t, ms, v.Created)
	assert.Equal(t, ms.Add(time.Hour), *v.Updated)

	// A second default is a fresh copy.
	w := &pModel{}
	require.NoError(t, m.PrepareSave(w, true, now))
	w.Meta["v"] = 2
	w.Tags[0] = "z"
	x := &pModel{}
	require.NoError(t, m.PrepareSave(x, true, now))
	assert.Equal(t, int32(1), x.Meta["v"])
	assert.Equal(t, "a", x.Tags[0])
	assert.NotEqual(t, w.Token, x.Token)

	// The zero time means now.
	y := &pModel{}
	require.NoError(t, m.PrepareSave(y, true, time.Time{}))
	assert.WithinDuration(t, time.Now(), y.Created, time.Minute)
	assert.Equal(t, time.UTC, y.Created.Location())

	u := mustMeta(t, r, pUUID{})
	uv := &pUUID{}
	require.NoError(t, u.PrepareSave(uv, true, now))
	assert.Equal(t, byte(0x40), uv.Key[6]&0xf0)
	key := uv.Key
	require.NoError(t, u.PrepareSave(uv, true, now))
	assert.Equal(t, key, uv.Key, "a set key is kept")

	assert.Error(t, m.PrepareSave(pModel{}, true, now))
}

type uqModel struct {
	Model
	Email  string  `modjo:"unique"`
	Handle *string `modjo:"unique"`
	Owner  string
	Title  string
	Status string
	Rank   int
	Shop   regPlace
}

func (uqModel) Meta() Options {
	return Options{
		Constraints: []Constraint{
			UniqueConstraint{Name: "pub_title", Fields: []string{"owner", "title"}, Condition: bson.D{{Key: "status", Value: "published"}}},
			UniqueConstraint{Name: "top_rank", Fields: []string{"rank"}, Condition: bson.D{{Key: "rank", Value: bson.D{{Key: "$lte", Value: 3}}}}},
			UniqueConstraint{Name: "odd", Fields: []string{"title"}, Condition: bson.D{{Key: "title", Value: bson.D{{Key: "$regex", Value: "^a"}}}}},
		},
		UniqueTogether: [][]string{{"owner", "shop.city"}},
	}
}

func TestUniqueChecks(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(uqModel{}))
	m := mustMeta(t, r, uqModel{})
	v := &uqModel{Email: "a@x", Owner: "ann", Title: "T", Status: "published", Rank: 2, Shop: regPlace{City: "Oslo"}}
	checks := m.UniqueChecks(v)
	names := func(cs []UniqueCheck) [][]string {
		var out [][]string
		for _, c := range cs {
			out = append(out, c.Fields)
		}
		return out
	}
	assert.Equal(t, [][]string{{"email"}, {"owner", "title"}, {"rank"}, {"title"}, {"owner", "shop.city"}}, names(checks))
	assert.Equal(t, "email", checks[0].Filter[0].Key)
	assert.Equal(t, "a@x", checks[0].Filter[0].Value.(bson.RawValue).StringValue())
	assert.Nil(t, checks[0].Condition)
	assert.Equal(t, bson.D{{Key: "status", Value: "published"}}, checks[1].Condition)
	assert.Equal(t, "shop.city", checks[4].Filter[1].Key)

	h := "h"
	v = &uqModel{Email: "b", Handle: &h, Status: "draft", Rank: 9}
	// Handle is set; pub_title and top_rank do not apply (conditions false); "odd" cannot
	// be evaluated locally ($regex) so it is kept.
	assert.Equal(t, [][]string{{"email"}, {"handle"}, {"title"}, {"owner", "shop.city"}}, names(m.UniqueChecks(v)))
	assert.Nil(t, m.UniqueChecks(uqModel{}))
}

func TestConditionEvaluation(t *testing.T) {
	t.Parallel()
	doc, err := bson.Marshal(bson.D{
		{Key: "s", Value: "pub"}, {Key: "n", Value: int32(5)}, {Key: "f", Value: 2.5}, {Key: "nil", Value: nil},
		{Key: "arr", Value: bson.A{"a", "b"}}, {Key: "sub", Value: bson.D{{Key: "x", Value: int64(1)}}},
		{Key: "b", Value: true}, {Key: "d", Value: bson.DateTime(100)}, {Key: "docs", Value: bson.A{bson.D{{Key: "k", Value: 1}}}},
	})
	require.NoError(t, err)
	cases := []struct {
		cond bson.D
		want tri
	}{
		{bson.D{{Key: "s", Value: "pub"}}, condTrue},
		{bson.D{{Key: "s", Value: "draft"}}, condFalse},
		{bson.D{{Key: "n", Value: 5.0}}, condTrue},
		{bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 4}, {Key: "$lt", Value: int64(6)}}}}, condTrue},
		{bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 6}}}}, condFalse},
		{bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: "a"}}}}, condFalse},
		{bson.D{{Key: "f", Value: bson.D{{Key: "$lte", Value: bson.NewDecimal128(0x3040000000000000, 25)}}}}, condTrue},
		{bson.D{{Key: "missing", Value: nil}}, condTrue},
		{bson.D{{Key: "nil", Value: nil}}, condTrue},
		{bson.D{{Key: "missing", Value: bson.D{{Key: "$exists", Value: false}}}}, condTrue},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$exists", Value: true}}}}, condTrue},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$exists", Value: 0}}}}, condFalse},
		{bson.D{{Key: "arr", Value: "b"}}, condTrue},
		{bson.D{{Key: "arr", Value: bson.A{"a", "b"}}}, condTrue},
		{bson.D{{Key: "arr", Value: "c"}}, condFalse},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$in", Value: bson.A{"x", "pub"}}}}}, condTrue},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$nin", Value: bson.A{"x", "pub"}}}}}, condFalse},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$ne", Value: "pub"}}}}, condFalse},
		{bson.D{{Key: "sub.x", Value: 1}}, condTrue},
		{bson.D{{Key: "sub", Value: bson.D{{Key: "x", Value: int64(1)}}}}, condTrue},
		{bson.D{{Key: "sub", Value: bson.D{{Key: "x", Value: 1}}}}, condUnknown},
		{bson.D{{Key: "docs.k", Value: 1}}, condUnknown},
		{bson.D{{Key: "b", Value: true}, {Key: "d", Value: bson.D{{Key: "$lt", Value: bson.DateTime(200)}}}}, condTrue},
		{bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "n", Value: 5}}}}}, condTrue},
		{bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "s", Value: bson.D{{Key: "$regex", Value: "p"}}}}}}}, condUnknown},
		{bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "s", Value: "pub"}}, bson.D{{Key: "n", Value: 6}}}}}, condFalse},
		{bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "s", Value: "x"}}}}}, condTrue},
		{bson.D{{Key: "$expr", Value: true}}, condUnknown},
		{bson.D{{Key: "s", Value: bson.D{{Key: "$type", Value: "string"}}}}, condUnknown},
		{bson.D{{Key: "s", Value: bson.Regex{Pattern: "p"}}}, condUnknown},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, evalCondition(c.cond, doc), "%v", c.cond)
	}
}

func TestSignals(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regAuthor{}, regCode{}))
	a := mustMeta(t, r, regAuthor{})
	c := mustMeta(t, r, regCode{})
	var mu sync.Mutex
	var log []string
	rec := func(tag string) Receiver {
		return func(_ context.Context, e *Event) error {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, tag+":"+e.Signal.String()+":"+e.Meta.Name)
			return nil
		}
	}
	offAll := r.Connect(PreSave, rec("all"))
	r.Connect(PreSave, rec("authors"), regAuthor{})
	r.Connect(PostDelete, rec("codes"), &regCode{}, nil)
	assert.True(t, r.HasReceivers(PreSave, c))
	assert.False(t, r.HasReceivers(PostSave, a))
	ctx := context.Background()
	require.NoError(t, r.Send(ctx, &Event{Signal: PreSave, Meta: a}))
	require.NoError(t, r.Send(ctx, &Event{Signal: PreSave, Meta: c}))
	require.NoError(t, r.Send(ctx, &Event{Signal: PostDelete, Meta: c}))
	require.NoError(t, r.Send(ctx, &Event{Signal: PostDelete, Meta: a}))
	assert.Equal(t, []string{"all:pre_save:regAuthor", "authors:pre_save:regAuthor", "all:pre_save:regCode", "codes:post_delete:regCode"}, log)

	offAll()
	offAll()
	log = nil
	require.NoError(t, r.Send(ctx, &Event{Signal: PreSave, Meta: c}))
	assert.Empty(t, log)

	boom := errors.New("boom")
	r.Connect(PostSave, func(context.Context, *Event) error { return boom })
	r.Connect(PostSave, rec("never"))
	assert.ErrorIs(t, r.Send(ctx, &Event{Signal: PostSave, Meta: a}), boom)
	assert.Empty(t, log, "the first error stops delivery")
	assert.Equal(t, "post_save", PostSave.String())
	assert.Equal(t, "Signal(?)", Signal(0).String())

	// Concurrent connects, sends and disconnects.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				off := r.Connect(PreDelete, func(context.Context, *Event) error { return nil })
				_ = r.Send(ctx, &Event{Signal: PreDelete, Meta: a})
				off()
			}
		}()
	}
	wg.Wait()
	assert.False(t, r.HasReceivers(PreDelete, a))
}
