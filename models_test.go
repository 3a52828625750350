package modjo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Models shared by the tests of this package.

// Book uses the default ObjectID key, defaults and automatic times.
type Book struct {
	model.Model
	Title     string    `modjo:"max_length=20"`
	Author    string    `modjo:"blank"`
	Pages     int       //
	Status    string    `modjo:"default=draft"`
	Tags      []string  `modjo:"blank"`
	CreatedAt time.Time `modjo:"auto_now_add"`
	UpdatedAt time.Time `modjo:"auto_now"`
}

// UUID is stored as a BSON UUID (binary subtype 4).
type UUID [16]byte

// Token has a UUID primary key, assigned on insert.
type Token struct {
	model.Base
	ID    UUID `modjo:"primary_key"`
	Label string
}

// Ticket has an integer AutoField primary key.
type Ticket struct {
	model.Base
	ID      int64 `modjo:"primary_key"`
	Subject string
}

// Country has a string primary key the program chooses.
type Country struct {
	model.Base
	Code string `modjo:"primary_key"`
	Name string
}

// Membership has a composite primary key.
type Membership struct {
	model.Base
	Group string `modjo:"primary_key"`
	User  string `modjo:"primary_key"`
	Role  string
}

// Author has a unique field.
type Author struct {
	model.Model
	Name  string
	Email string `modjo:"unique"`
}

// Post has UniqueTogether and a conditional UniqueConstraint.
type Post struct {
	model.Model
	Site   string
	Slug   string
	Title  string
	Status string
}

func (Post) Meta() model.Options {
	return model.Options{
		UniqueTogether: [][]string{{"site", "slug"}},
		Constraints: []model.Constraint{
			model.UniqueConstraint{Name: "one_published_title", Fields: []string{"title"}, Condition: bson.D{{Key: "status", Value: "published"}}},
		},
	}
}

// Hooked records its hooks (and, through receivers the tests connect, its signals).
type Hooked struct {
	model.Model
	Name   string
	Log    []string `modjo:"-"`
	FailOn string   `modjo:"-"` // the hook that returns errHook
}

var errHook = errors.New("hook refused")

func (h *Hooked) hook(name string) error {
	h.Log = append(h.Log, name)
	if h.FailOn == name {
		return errHook
	}
	return nil
}

func (h *Hooked) BeforeSave(context.Context) error   { return h.hook("BeforeSave") }
func (h *Hooked) AfterSave(context.Context) error    { return h.hook("AfterSave") }
func (h *Hooked) BeforeDelete(context.Context) error { return h.hook("BeforeDelete") }
func (h *Hooked) AfterDelete(context.Context) error  { return h.hook("AfterDelete") }

// newDB returns a handle on a fresh test database for a new registry of models.
func newDB(t testing.TB, models ...any) *modjo.DB {
	t.Helper()
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(models...))
	mdb := testenv.Database(t)
	return modjo.New(mdb.Client(), mdb.Name(), reg)
}

// metaOf returns a registered model's metadata.
func metaOf(t testing.TB, db *modjo.DB, v any) *model.Meta {
	t.Helper()
	meta, err := db.Registry().Meta(v)
	require.NoError(t, err)
	return meta
}

// stored reads the stored document with the given _id, or nil when there is none.
func stored(t testing.TB, db *modjo.DB, v any, id any) bson.Raw {
	t.Helper()
	raw, err := db.Collection(metaOf(t, db, v)).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	require.NoError(t, err)
	return raw
}

// count counts the documents of a model's collection.
func count(t testing.TB, db *modjo.DB, v any) int64 {
	t.Helper()
	n, err := db.Collection(metaOf(t, db, v)).CountDocuments(context.Background(), bson.D{})
	require.NoError(t, err)
	return n
}
