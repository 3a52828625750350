package modjo_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestSaveInsertsThenReplaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	b := &Book{Title: "Dune", Author: "Herbert", Pages: 412, Tags: []string{"sf"}}
	require.NoError(t, db.Save(ctx, b))
	require.False(t, b.ID.IsZero(), "insert assigns an ObjectID")
	assert.True(t, model.StateOf(b).Loaded)
	assert.Equal(t, "draft", b.Status, "default applied on insert")
	assert.False(t, b.CreatedAt.IsZero())
	assert.Equal(t, b.CreatedAt, b.UpdatedAt)
	assert.Equal(t, time.UTC, b.CreatedAt.Location())
	assert.Zero(t, b.CreatedAt.Nanosecond()%int(time.Millisecond), "times are kept to the millisecond")

	raw := stored(t, db, Book{}, b.ID)
	require.NotNil(t, raw)
	assert.Equal(t, "Dune", raw.Lookup("title").StringValue())
	assert.Equal(t, "draft", raw.Lookup("status").StringValue())
	assert.Equal(t, b.CreatedAt.UnixMilli(), int64(raw.Lookup("created_at").DateTime()))

	created := b.CreatedAt
	time.Sleep(2 * time.Millisecond)
	b.Title = "Dune (1965)"
	b.Status = ""
	require.NoError(t, db.Save(ctx, b))
	assert.Equal(t, int64(1), count(t, db, Book{}))
	assert.Equal(t, created, b.CreatedAt, "auto_now_add is not touched on update")
	assert.True(t, b.UpdatedAt.After(created), "auto_now moves on every save")
	assert.Equal(t, "", b.Status, "defaults apply only to new instances")

	var got Book
	require.NoError(t, metaOf(t, db, Book{}).Decode(stored(t, db, Book{}, b.ID), &got))
	assert.Equal(t, b.Title, got.Title)
	assert.Equal(t, b.UpdatedAt, got.UpdatedAt, "what the program holds is what is stored")
	assert.Equal(t, "", got.Status)
}

func TestSaveUpdateFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	b := &Book{Title: "Emma", Author: "Austen", Pages: 300}
	require.NoError(t, db.Save(ctx, b))
	updated := b.UpdatedAt
	time.Sleep(2 * time.Millisecond)

	b.Title, b.Pages = "Emma!", 999
	require.NoError(t, db.Save(ctx, b, modjo.UpdateFields("title")))
	assert.Equal(t, updated, b.UpdatedAt, "auto_now is refreshed only when named")
	raw := stored(t, db, Book{}, b.ID)
	assert.Equal(t, "Emma!", raw.Lookup("title").StringValue())
	assert.EqualValues(t, 300, raw.Lookup("pages").AsInt64(), "fields not named are not written")

	require.NoError(t, db.Save(ctx, b, modjo.UpdateFields("pages", "updated_at", "pages")))
	raw = stored(t, db, Book{}, b.ID)
	assert.EqualValues(t, 999, raw.Lookup("pages").AsInt64())
	assert.True(t, b.UpdatedAt.After(updated))
	assert.Equal(t, b.UpdatedAt.UnixMilli(), int64(raw.Lookup("updated_at").DateTime()))

	// Django: an empty update_fields skips the save.
	b.Title = "not written"
	require.NoError(t, db.Save(ctx, b, modjo.UpdateFields()))
	assert.Equal(t, "Emma!", stored(t, db, Book{}, b.ID).Lookup("title").StringValue())

	err := db.Save(ctx, b, modjo.UpdateFields("titel"))
	var fe *modjo.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "titel", fe.Name)
	assert.Contains(t, fe.Choices, "title")

	err = db.Save(ctx, b, modjo.UpdateFields("pk"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Book")

	err = db.Save(ctx, &Book{Title: "new"}, modjo.UpdateFields("title"))
	require.Error(t, err, "UpdateFields needs a saved instance")
	assert.Contains(t, err.Error(), "Book")
	assert.Equal(t, int64(1), count(t, db, Book{}))

	gone := &Book{Model: model.Model{ID: bson.NewObjectID()}, Title: "gone"}
	err = db.Save(ctx, gone, modjo.UpdateFields("title"))
	require.ErrorIs(t, err, modjo.ErrDoesNotExist)
	assert.Contains(t, err.Error(), gone.ID.Hex())
}

func TestSaveDeferredWritesOnlyLoadedFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	b := &Book{Title: "Ulysses", Author: "Joyce", Pages: 730}
	require.NoError(t, db.Save(ctx, b))

	// As a partial load (Only("title")) would leave it: author and pages not read.
	partial := &Book{Model: model.Model{ID: b.ID}, Title: "Ulysses"}
	st := model.EnsureState(partial)
	st.Loaded = true
	st.Deferred = map[string]bool{"author": true, "pages": true}
	partial.Title = "Ulysses (1922)"
	require.NoError(t, db.Save(ctx, partial))

	raw := stored(t, db, Book{}, b.ID)
	assert.Equal(t, "Ulysses (1922)", raw.Lookup("title").StringValue())
	assert.Equal(t, "Joyce", raw.Lookup("author").StringValue(), "a deferred field keeps its stored value")
	assert.EqualValues(t, 730, raw.Lookup("pages").AsInt64())
}

func TestSavePreservesUnknownKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})
	meta := metaOf(t, db, Book{})

	id := bson.NewObjectID()
	_, err := db.Collection(meta).InsertOne(ctx, bson.D{
		{Key: "_id", Value: id},
		{Key: "title", Value: "Kept"},
		{Key: "legacy", Value: "from another program"},
		{Key: "nested", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: bson.A{"x", 2.5}}}},
		{Key: "pages", Value: int32(10)},
	})
	require.NoError(t, err)

	var b Book
	require.NoError(t, meta.Decode(stored(t, db, Book{}, id), &b))
	b.Pages = 11
	require.NoError(t, db.Save(ctx, &b))

	raw := stored(t, db, Book{}, id)
	assert.Equal(t, "from another program", raw.Lookup("legacy").StringValue())
	assert.Equal(t, int32(1), raw.Lookup("nested", "a").Int32())
	assert.Equal(t, 2.5, raw.Lookup("nested", "b", "1").Double())
	assert.EqualValues(t, 11, raw.Lookup("pages").AsInt64())

	// Refresh keeps them too.
	require.NoError(t, db.Refresh(ctx, &b))
	require.NoError(t, db.Save(ctx, &b))
	assert.Equal(t, "from another program", stored(t, db, Book{}, id).Lookup("legacy").StringValue())
}

func TestStringPrimaryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Country{})

	var events []bool
	db.Registry().Connect(model.PostSave, func(_ context.Context, e *model.Event) error {
		events = append(events, e.Created)
		return nil
	})

	err := db.Save(ctx, &Country{Name: "Nowhere"})
	require.Error(t, err, "a string key must be chosen")
	assert.Contains(t, err.Error(), "Country")
	assert.Contains(t, err.Error(), "code")
	assert.Equal(t, int64(0), count(t, db, Country{}))

	c := &Country{Code: "fr", Name: "France"}
	require.NoError(t, db.Save(ctx, c), "the first save of a chosen key inserts")
	c.Name = "République française"
	require.NoError(t, db.Save(ctx, c))
	assert.Equal(t, []bool{true, false}, events)
	assert.Equal(t, "République française", stored(t, db, Country{}, "fr").Lookup("name").StringValue())

	err = db.Create(ctx, &Country{Code: "fr", Name: "again"})
	require.ErrorIs(t, err, modjo.ErrIntegrity)
	assert.True(t, mongo.IsDuplicateKeyError(err))
	require.NoError(t, db.Create(ctx, &Country{Code: "de", Name: "Germany"}))
	assert.Equal(t, int64(2), count(t, db, Country{}))
	require.Error(t, db.Create(ctx, &Country{Name: "no key"}))
}

func TestUUIDPrimaryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Token{})

	tok := &Token{Label: "a"}
	require.NoError(t, db.Save(ctx, tok))
	require.NotEqual(t, UUID{}, tok.ID)
	assert.Equal(t, byte(0x40), tok.ID[6]&0xf0, "version 4")
	assert.Equal(t, byte(0x80), tok.ID[8]&0xc0, "RFC 4122 variant")

	id := bson.Binary{Subtype: bson.TypeBinaryUUID, Data: tok.ID[:]}
	raw := stored(t, db, Token{}, id)
	require.NotNil(t, raw, "stored as a BSON UUID")
	sub, data := raw.Lookup("_id").Binary()
	assert.Equal(t, bson.TypeBinaryUUID, sub)
	assert.Equal(t, tok.ID[:], data)

	tok.Label = "b"
	require.NoError(t, db.Save(ctx, tok))
	assert.Equal(t, int64(1), count(t, db, Token{}))

	other := &Token{Label: "c"}
	require.NoError(t, db.Save(ctx, other))
	assert.NotEqual(t, tok.ID, other.ID)
}

func TestAutoFieldPrimaryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Ticket{})

	for i := int64(1); i <= 3; i++ {
		tk := &Ticket{Subject: fmt.Sprint("t", i)}
		require.NoError(t, db.Save(ctx, tk))
		assert.Equal(t, i, tk.ID)
	}
	tk := &Ticket{ID: 2, Subject: "renamed"}
	require.NoError(t, db.Save(ctx, tk), "a set key updates")
	assert.Equal(t, int64(3), count(t, db, Ticket{}))
	assert.Equal(t, "renamed", stored(t, db, Ticket{}, int64(2)).Lookup("subject").StringValue())

	counter, err := db.Database().Collection(modjo.CountersCollection).FindOne(ctx, bson.D{{Key: "_id", Value: metaOf(t, db, Ticket{}).Collection}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, int64(3), counter.Lookup("seq").AsInt64())
}

func TestAutoFieldConcurrentSaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Ticket{})

	const n = 50
	ids := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			tk := &Ticket{Subject: fmt.Sprint("concurrent ", i)}
			if err := db.Save(ctx, tk); err != nil {
				errs <- err
				return
			}
			ids[i] = tk.ID
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		require.Equal(t, int64(i+1), id, "every save got its own value, none skipped")
	}
	assert.Equal(t, int64(n), count(t, db, Ticket{}))
}

func TestCompositePrimaryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Membership{})

	m := &Membership{Group: "admins", User: "ann", Role: "owner"}
	require.NoError(t, db.Save(ctx, m))
	require.NoError(t, db.Save(ctx, &Membership{Group: "admins", User: "bob", Role: "member"}))

	id := bson.D{{Key: "group", Value: "admins"}, {Key: "user", Value: "ann"}}
	raw := stored(t, db, Membership{}, id)
	require.NotNil(t, raw, "the key is an _id sub-document of the members' columns")
	assert.Equal(t, "owner", raw.Lookup("role").StringValue())

	m.Role = "admin"
	require.NoError(t, db.Save(ctx, m))
	assert.Equal(t, int64(2), count(t, db, Membership{}))

	again := &Membership{Group: "admins", User: "ann"}
	require.NoError(t, db.Refresh(ctx, again))
	assert.Equal(t, "admin", again.Role)

	err := db.Create(ctx, &Membership{Group: "admins", User: "ann"})
	require.ErrorIs(t, err, modjo.ErrIntegrity)

	require.NoError(t, db.Delete(ctx, m))
	assert.Nil(t, stored(t, db, Membership{}, id))
	assert.Equal(t, int64(1), count(t, db, Membership{}))
}

func TestDuplicateKeyIsIntegrityError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Author{})
	require.NoError(t, db.EnsureIndexes(ctx))

	require.NoError(t, db.Save(ctx, &Author{Name: "Ann", Email: "ann@example.com"}))
	dup := &Author{Name: "Other Ann", Email: "ann@example.com"}
	err := db.Save(ctx, dup)
	require.ErrorIs(t, err, modjo.ErrIntegrity)
	assert.True(t, mongo.IsDuplicateKeyError(err), "the driver's error is wrapped too")
	var we mongo.WriteException
	assert.ErrorAs(t, err, &we)
	assert.Contains(t, err.Error(), "Author")
	assert.Contains(t, err.Error(), "email")
	assert.True(t, dup.ID.IsZero(), "a failed insert leaves the key unset")
	assert.Equal(t, int64(1), count(t, db, Author{}))

	// On update too.
	b := &Author{Name: "Bob", Email: "bob@example.com"}
	require.NoError(t, db.Save(ctx, b))
	b.Email = "ann@example.com"
	err = db.Save(ctx, b)
	require.ErrorIs(t, err, modjo.ErrIntegrity)
	assert.True(t, mongo.IsDuplicateKeyError(err))
	err = db.Save(ctx, b, modjo.UpdateFields("email"))
	require.ErrorIs(t, err, modjo.ErrIntegrity)
	assert.Contains(t, err.Error(), b.ID.Hex())
}

func TestSaveValidateOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	b := &Book{Title: "a title far longer than twenty characters"}
	err := db.Save(ctx, b, modjo.Validate())
	var ve *modjo.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Fields, "title")
	assert.True(t, b.ID.IsZero(), "nothing was saved, and the key is unset again")
	assert.Equal(t, int64(0), count(t, db, Book{}))

	require.NoError(t, db.Save(ctx, b), "Save does not validate unless asked")
	assert.Equal(t, int64(1), count(t, db, Book{}))

	b.Title = "short"
	require.NoError(t, db.Save(ctx, b, modjo.Validate()), "valid, and its own document is not a conflict")

	// Writing some fields validates only those (Django's full_clean(exclude=...)).
	b.Title, b.Pages = "a title far longer than twenty characters", 12
	require.NoError(t, db.Save(ctx, b, modjo.UpdateFields("pages"), modjo.Validate()))
	err = db.Save(ctx, b, modjo.UpdateFields("title", "pages"), modjo.Validate())
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Fields, "title")
	raw := stored(t, db, Book{}, b.ID)
	assert.Equal(t, "short", raw.Lookup("title").StringValue())
	assert.EqualValues(t, 12, raw.Lookup("pages").AsInt64())

	st := model.EnsureState(b)
	st.Deferred = map[string]bool{"title": true}
	b.Pages = 13
	require.NoError(t, db.Save(ctx, b, modjo.Validate()), "a deferred field is neither written nor validated")
	assert.EqualValues(t, 13, stored(t, db, Book{}, b.ID).Lookup("pages").AsInt64())
}

func TestSaveRejectsWhatIsNotAModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	require.Error(t, db.Save(ctx, nil))
	require.Error(t, db.Save(ctx, Book{}), "a value cannot receive its key")
	require.Error(t, db.Save(ctx, (*Book)(nil)))
	require.Error(t, db.Save(ctx, new(int)))
	err := db.Save(ctx, &Author{})
	require.ErrorIs(t, err, modjo.ErrNotRegistered)
	assert.Contains(t, err.Error(), "Author")
	require.ErrorIs(t, db.Delete(ctx, &Author{Model: model.Model{ID: bson.NewObjectID()}}), modjo.ErrNotRegistered)
	require.ErrorIs(t, db.Refresh(ctx, &Author{}), modjo.ErrNotRegistered)
	require.ErrorIs(t, db.FullClean(ctx, &Author{}), modjo.ErrNotRegistered)
	require.ErrorIs(t, db.Create(ctx, &Author{}), modjo.ErrNotRegistered)
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{}, Ticket{})

	b := &Book{Title: "Created"}
	require.NoError(t, db.Create(ctx, b))
	require.False(t, b.ID.IsZero())
	assert.Equal(t, "draft", b.Status)

	err := db.Create(ctx, b)
	require.ErrorIs(t, err, modjo.ErrIntegrity, "Create never updates")
	assert.True(t, mongo.IsDuplicateKeyError(err))

	tk := &Ticket{Subject: "auto"}
	require.NoError(t, db.Create(ctx, tk))
	assert.Equal(t, int64(1), tk.ID)
}

func TestSaveErrorsNameTheModel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	db := newDB(t, Book{})
	cancel()
	err := db.Save(ctx, &Book{Title: "x"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "the driver's error is wrapped: %v", err)
	assert.Contains(t, err.Error(), "Book")
}

// Settings has a JSON field that is stored only when it holds a value.
type Settings struct {
	model.Model
	Name  string
	Prefs map[string]any `modjo:"blank"`
}

func TestSaveUpdateFieldsUnsetsAnEmptiedJSONField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Settings{})
	s := &Settings{Name: "a", Prefs: map[string]any{"theme": "dark"}}
	require.NoError(t, db.Save(ctx, s))
	require.NotNil(t, stored(t, db, Settings{}, s.ID).Lookup("prefs").Value)

	s.Prefs = nil
	require.NoError(t, db.Save(ctx, s, modjo.UpdateFields("prefs")))
	_, err := stored(t, db, Settings{}, s.ID).LookupErr("prefs")
	assert.Error(t, err, "an emptied JSON field is removed from the stored document")
}
