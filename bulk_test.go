package modjo

import (
	"context"
	"testing"

	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

type bulkItem struct {
	model.Model
	Name  string `modjo:"unique"`
	Count int
}

type bulkTicket struct {
	model.Base
	ID   int64 `modjo:"primary_key"`
	Name string
}

type bulkToken struct {
	model.Base
	ID   [16]byte `modjo:"primary_key"`
	Name string
}

func internalDB(t *testing.T, models ...any) *DB {
	t.Helper()
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(models...))
	mdb := testenv.Database(t)
	return New(mdb.Client(), mdb.Name(), reg)
}

func TestDropObjectID(t *testing.T) {
	id := bson.NewObjectID()
	raw, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "a", Value: int32(1)}, {Key: "b", Value: "x"}})
	require.NoError(t, err)
	d, ok := dropObjectID(raw)
	require.True(t, ok)
	require.NoError(t, d.Validate())
	assert.Equal(t, `{"a": {"$numberInt":"1"},"b": "x"}`, d.String())

	for _, doc := range []bson.D{
		{{Key: "_id", Value: "string key"}, {Key: "a", Value: int32(1)}},
		{{Key: "a", Value: id}, {Key: "_id", Value: id}},
		{{Key: "_idx", Value: id}},
	} {
		raw, err := bson.Marshal(doc)
		require.NoError(t, err)
		_, ok := dropObjectID(raw)
		assert.False(t, ok, "%v", doc)
	}
	_, ok = dropObjectID(bson.Raw{5, 0, 0, 0, 0})
	assert.False(t, ok)
}

func TestInsertMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := internalDB(t, bulkItem{}, bulkTicket{}, bulkToken{})

	items := []*bulkItem{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	objs := []any{items[0], items[1], items[2]}
	info := db.infoOf(mustMeta(t, db, bulkItem{}))
	require.NoError(t, db.insertMany(ctx, info, objs))
	for _, it := range items {
		require.False(t, it.ID.IsZero())
		assert.True(t, model.StateOf(it).Loaded)
		raw, err := info.coll.FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Raw()
		require.NoError(t, err, "the key on the instance is the stored one")
		assert.Equal(t, it.Name, raw.Lookup("name").StringValue())
	}

	var tickets []any
	for range 5 {
		tickets = append(tickets, &bulkTicket{Name: "t"})
	}
	tinfo := db.infoOf(mustMeta(t, db, bulkTicket{}))
	require.NoError(t, db.insertMany(ctx, tinfo, tickets[:2]))
	require.NoError(t, db.insertMany(ctx, tinfo, tickets[2:]))
	for i, tk := range tickets {
		assert.Equal(t, int64(i+1), tk.(*bulkTicket).ID, "AutoField values come in blocks")
	}

	tokens := []any{&bulkToken{Name: "x"}, &bulkToken{Name: "y"}}
	require.NoError(t, db.insertMany(ctx, db.infoOf(mustMeta(t, db, bulkToken{})), tokens))
	assert.NotEqual(t, tokens[0].(*bulkToken).ID, tokens[1].(*bulkToken).ID)
	assert.NotEqual(t, [16]byte{}, tokens[0].(*bulkToken).ID)

	require.NoError(t, db.insertMany(ctx, info, nil))
}

func TestInsertManyStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := internalDB(t, bulkItem{})
	require.NoError(t, db.EnsureIndexes(ctx))
	info := db.infoOf(mustMeta(t, db, bulkItem{}))
	require.NoError(t, db.insertMany(ctx, info, []any{&bulkItem{Name: "taken"}}))

	items := []*bulkItem{{Name: "new1"}, {Name: "taken"}, {Name: "new2"}}
	err := db.insertMany(ctx, info, []any{items[0], items[1], items[2]})
	require.ErrorIs(t, err, ErrIntegrity)
	assert.True(t, mongo.IsDuplicateKeyError(err))
	assert.Contains(t, err.Error(), "name")
	assert.False(t, items[0].ID.IsZero(), "stored before the failure")
	assert.True(t, items[1].ID.IsZero())
	assert.True(t, items[2].ID.IsZero(), "an ordered insert stops at the first error")
	n, err := info.coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

func mustMeta(t *testing.T, db *DB, v any) *model.Meta {
	t.Helper()
	m, err := db.Registry().Meta(v)
	require.NoError(t, err)
	return m
}

func TestInsertManyBatchesAndIgnoresConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := internalDB(t, bulkItem{}, bulkTicket{})
	require.NoError(t, db.EnsureIndexes(ctx))
	info := db.infoOf(mustMeta(t, db, bulkItem{}))
	require.NoError(t, db.InsertMany(ctx, []any{&bulkItem{Name: "taken"}}, InsertManyOptions{}))

	// Batches: an ordered failure in the second batch keeps the first batch's keys.
	items := []*bulkItem{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "taken"}, {Name: "d"}}
	objs := make([]any, len(items))
	for i := range items {
		objs[i] = items[i]
	}
	err := db.InsertMany(ctx, objs, InsertManyOptions{BatchSize: 2})
	require.ErrorIs(t, err, ErrIntegrity)
	for i, it := range items {
		assert.Equal(t, i < 3, !it.ID.IsZero(), "item %d", i)
		assert.Equal(t, i < 3, model.StateOf(it) != nil && model.StateOf(it).Loaded, "item %d", i)
	}

	// IgnoreConflicts: unordered, duplicates skipped, the rest stored with their keys.
	more := []*bulkItem{{Name: "taken"}, {Name: "e"}, {Name: "a"}, {Name: "f"}, {Name: "e"}}
	objs = make([]any, len(more))
	for i := range more {
		objs[i] = more[i]
	}
	require.NoError(t, db.InsertMany(ctx, objs, InsertManyOptions{IgnoreConflicts: true, BatchSize: 3}))
	stored := []bool{false, true, false, true, false}
	for i, it := range more {
		assert.Equal(t, stored[i], !it.ID.IsZero(), "item %d", i)
		if stored[i] {
			raw, err := info.coll.FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Raw()
			require.NoError(t, err, "the key on the instance is the stored one")
			assert.Equal(t, it.Name, raw.Lookup("name").StringValue())
		}
	}
	n, err := info.coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1+3+2), n)

	// Mixed or nil instances are refused before anything is written.
	assert.Error(t, db.InsertMany(ctx, []any{&bulkItem{Name: "x"}, &bulkTicket{}}, InsertManyOptions{}))
	assert.Error(t, db.InsertMany(ctx, []any{&bulkItem{Name: "x"}, (*bulkItem)(nil)}, InsertManyOptions{}))
	assert.Error(t, db.InsertMany(ctx, []any{bulkItem{}}, InsertManyOptions{}), "a pointer is needed")
}

func TestPrepareInsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := internalDB(t, bulkItem{}, bulkTicket{}, bulkToken{})

	it := &bulkItem{Name: "p"}
	raw, err := db.PrepareInsert(ctx, it)
	require.NoError(t, err)
	assert.False(t, it.ID.IsZero(), "a new ObjectID")
	assert.Equal(t, it.ID, raw.Lookup("_id").ObjectID())
	assert.Equal(t, "p", raw.Lookup("name").StringValue())
	assert.Nil(t, model.StateOf(it), "not loaded: nothing was written")

	tk := &bulkTicket{Name: "t"}
	_, err = db.PrepareInsert(ctx, tk)
	require.NoError(t, err)
	assert.Equal(t, int64(1), tk.ID, "the next AutoField value")

	tok := &bulkToken{}
	raw, err = db.PrepareInsert(ctx, tok)
	require.NoError(t, err)
	assert.NotEqual(t, [16]byte{}, tok.ID)
	_, data := raw.Lookup("_id").Binary()
	assert.Equal(t, tok.ID[:], data)

	_, err = db.PrepareInsert(ctx, bulkItem{})
	assert.Error(t, err, "a pointer is needed")
}
