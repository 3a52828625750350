package modjo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.Get(t)
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(Book{}))

	name := randomName()
	db, err := modjo.Open(ctx, modjo.Config{URI: env.URI, Database: name}, reg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Client.Database(name).Drop(context.Background()) })
	assert.Equal(t, name, db.Database().Name())
	assert.Same(t, reg, db.Registry())
	require.NoError(t, db.Save(ctx, &Book{Title: "opened"}))
	assert.Equal(t, int64(1), count(t, db, Book{}))
	require.NoError(t, db.Close(ctx))
	assert.Error(t, db.Client().Ping(ctx, nil), "Close disconnects a client Open connected")

	// The database may come from the URI's path, and Options are merged in.
	cs, err := connstring.Parse(env.URI)
	require.NoError(t, err)
	uri := "mongodb://" + cs.Hosts[0] + "/" + name
	if len(cs.Hosts) > 1 || cs.Username != "" {
		t.Skip("the URI-path case needs a plain single-host URI")
	}
	opts := options.Client().SetAppName("modjo-test")
	if cs.ReplicaSet != "" {
		opts.SetReplicaSet(cs.ReplicaSet)
	}
	db, err = modjo.Open(ctx, modjo.Config{URI: uri, Options: opts}, reg)
	require.NoError(t, err)
	assert.Equal(t, name, db.Database().Name())
	assert.Equal(t, int64(1), count(t, db, Book{}))
	require.NoError(t, db.Close(ctx))
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := model.NewRegistry()

	_, err := modjo.Open(ctx, modjo.Config{Database: "x"}, reg)
	require.Error(t, err)
	_, err = modjo.Open(ctx, modjo.Config{URI: "mongodb://127.0.0.1:1"}, reg)
	require.ErrorContains(t, err, "database")
	_, err = modjo.Open(ctx, modjo.Config{URI: "not a uri", Database: "x"}, reg)
	require.Error(t, err)

	// Nothing listens on port 1: the ping fails within the selection timeout.
	opts := options.Client().SetServerSelectionTimeout(200e6)
	_, err = modjo.Open(ctx, modjo.Config{URI: "mongodb://127.0.0.1:1", Database: "x", Options: opts}, reg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ping")
}

func TestNewDoesNotOwnTheClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mdb := testenv.Database(t)
	db := modjo.New(mdb.Client(), mdb.Name(), nil)
	require.NotNil(t, db.Registry())
	assert.Same(t, mdb.Client(), db.Client())
	require.NoError(t, db.Close(ctx))
	require.NoError(t, mdb.Client().Ping(ctx, nil), "Close leaves a client it did not open connected")
}

func TestTwoHandlesShareARegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(Book{}, Ticket{}))
	m1, m2 := testenv.Database(t), testenv.Database(t)
	db1 := modjo.New(m1.Client(), m1.Name(), reg)
	db2 := modjo.New(m2.Client(), m2.Name(), reg)

	var saved []string
	reg.Connect(model.PostSave, func(_ context.Context, e *model.Event) error {
		saved = append(saved, e.Meta.Name)
		return nil
	})

	b := &Book{Title: "in db1"}
	require.NoError(t, db1.Save(ctx, b))
	copyOf := *b
	model.ResetState(&copyOf)
	copyOf.Title = "in db2"
	require.NoError(t, db2.Save(ctx, &copyOf), "the same key, another database")
	assert.Equal(t, "in db1", stored(t, db1, Book{}, b.ID).Lookup("title").StringValue())
	assert.Equal(t, "in db2", stored(t, db2, Book{}, b.ID).Lookup("title").StringValue())

	for range 3 {
		require.NoError(t, db1.Save(ctx, &Ticket{Subject: "one"}))
	}
	tk := &Ticket{Subject: "two"}
	require.NoError(t, db2.Save(ctx, tk))
	assert.Equal(t, int64(1), tk.ID, "each database has its own AutoField counters")

	require.NoError(t, db1.Delete(ctx, b))
	assert.Nil(t, stored(t, db1, Book{}, b.ID))
	assert.NotNil(t, stored(t, db2, Book{}, b.ID))
	assert.Equal(t, []string{"Book", "Book", "Ticket", "Ticket", "Ticket", "Ticket"}, saved, "signals belong to the registry")

	assert.Equal(t, m1.Name(), db1.Collection(metaOf(t, db1, Book{})).Database().Name())
	assert.Equal(t, m2.Name(), db2.Collection(metaOf(t, db2, Book{})).Database().Name())
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	b := &Book{Title: "to delete"}
	keep := &Book{Title: "to keep"}
	require.NoError(t, db.Save(ctx, b))
	require.NoError(t, db.Save(ctx, keep))
	require.NoError(t, db.Delete(ctx, b))
	assert.Nil(t, stored(t, db, Book{}, b.ID))
	assert.NotNil(t, stored(t, db, Book{}, keep.ID))
	assert.False(t, model.StateOf(b).Loaded, "a deleted instance counts as new again")

	require.NoError(t, db.Delete(ctx, b), "deleting what is already gone is not an error (Django)")

	err := db.Delete(ctx, &Book{Title: "never saved"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Book")

	// Saving it again writes it back.
	require.NoError(t, db.Save(ctx, b))
	assert.NotNil(t, stored(t, db, Book{}, b.ID))
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})
	meta := metaOf(t, db, Book{})

	b := &Book{Title: "before", Author: "A", Pages: 1}
	require.NoError(t, db.Save(ctx, b))
	_, err := db.Collection(meta).UpdateOne(ctx, bson.D{{Key: "_id", Value: b.ID}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "title", Value: "after"}, {Key: "extra", Value: true}}},
		{Key: "$unset", Value: bson.D{{Key: "author", Value: ""}}},
	})
	require.NoError(t, err)

	b.Pages = 99
	st := model.EnsureState(b)
	st.Deferred = map[string]bool{"pages": true}
	require.NoError(t, db.Refresh(ctx, b))
	assert.Equal(t, "after", b.Title)
	assert.Equal(t, "", b.Author, "a key missing from the document leaves the zero value")
	assert.Equal(t, 1, b.Pages)
	st = model.StateOf(b)
	require.NotNil(t, st)
	assert.True(t, st.Loaded)
	assert.Empty(t, st.Deferred, "everything is loaded now")

	id := b.ID
	require.NoError(t, db.Delete(ctx, b))
	b.Title = "local"
	err = db.Refresh(ctx, b)
	require.ErrorIs(t, err, modjo.ErrDoesNotExist)
	assert.Contains(t, err.Error(), "Book")
	assert.Contains(t, err.Error(), id.Hex())
	assert.Equal(t, "local", b.Title, "a failed refresh leaves the instance alone")

	require.Error(t, db.Refresh(ctx, &Book{}), "an instance without a key cannot be refreshed")
}

func TestRefreshKeepsNonModelFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Hooked{})
	h := &Hooked{Name: "stored"}
	require.NoError(t, db.Save(ctx, h))
	h.Name, h.Log = "local", []string{"kept"}
	require.NoError(t, db.Refresh(ctx, h))
	assert.Equal(t, "stored", h.Name)
	assert.Equal(t, []string{"kept"}, h.Log, "a field tagged - is not the database's")
}

func TestRefreshTypeMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})
	meta := metaOf(t, db, Book{})
	id := bson.NewObjectID()
	_, err := db.Collection(meta).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "pages", Value: "many"}})
	require.NoError(t, err)
	b := &Book{Model: model.Model{ID: id}, Title: "mine"}
	err = db.Refresh(ctx, b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Book")
	assert.Equal(t, "mine", b.Title, "unchanged on a decoding error")
}

func TestEnsureIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Author{}, Post{}, Book{})
	require.NoError(t, db.EnsureIndexes(ctx))
	require.NoError(t, db.EnsureIndexes(ctx), "running it again is harmless")

	names, err := db.Database().ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	for _, m := range db.Registry().Models() {
		assert.Contains(t, names, m.Collection, "the collection exists even without indexes")
	}

	for _, m := range db.Registry().Models() {
		want := m.IndexSpecs()
		cur, err := db.Collection(m).Indexes().List(ctx)
		require.NoError(t, err)
		var got []struct {
			Name    string `bson:"name"`
			Key     bson.D `bson:"key"`
			Unique  bool   `bson:"unique"`
			Partial bson.D `bson:"partialFilterExpression"`
		}
		require.NoError(t, cur.All(ctx, &got))
		require.Len(t, got, len(want)+1, "%s: _id and its own", m.Name)
		for _, w := range want {
			found := false
			for _, g := range got {
				if w.Name == "" || g.Name == w.Name {
					if keysEqual(g.Key, w.Keys) {
						found = true
						assert.Equal(t, w.Unique, g.Unique, "%s %s", m.Name, w.Name)
						assert.Equal(t, len(w.PartialFilter) > 0, len(g.Partial) > 0, "%s %s", m.Name, w.Name)
					}
				}
			}
			assert.True(t, found, "%s: index %s %v", m.Name, w.Name, w.Keys)
		}
	}

	// The unique index holds.
	require.NoError(t, db.Save(ctx, &Author{Email: "x@example.com"}))
	require.ErrorIs(t, db.Save(ctx, &Author{Email: "x@example.com"}), modjo.ErrIntegrity)
	// So does the partial one, only where its condition holds.
	require.NoError(t, db.Save(ctx, &Post{Site: "a", Slug: "1", Title: "T", Status: "published"}))
	require.NoError(t, db.Save(ctx, &Post{Site: "a", Slug: "2", Title: "T", Status: "draft"}))
	err = db.Save(ctx, &Post{Site: "a", Slug: "3", Title: "T", Status: "published"})
	require.ErrorIs(t, err, modjo.ErrIntegrity)
	assert.True(t, mongo.IsDuplicateKeyError(err))
}

// keysEqual compares index keys, whatever numeric type the directions came back as.
func keysEqual(a, b bson.D) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || toInt(a[i].Value) != toInt(b[i].Value) {
			return false
		}
	}
	return true
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return -1 << 62
}
