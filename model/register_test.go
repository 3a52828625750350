package model

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type Timestamps struct {
	Created time.Time `modjo:"auto_now_add"`
	Updated time.Time `modjo:"auto_now"`
}

type regAuthor struct {
	Model
	Name  string `modjo:"max_length=100"`
	Email string `modjo:"unique;email"`
	Timestamps
	//lint:ignore U1000 present to show that unexported fields are not stored
	skipped int
	Ignored string `modjo:"-"`
}

func (regAuthor) Meta() Options {
	return Options{Collection: "authors", Ordering: []string{"-created", "name"}, VerboseName: "writer"}
}

type regCode struct {
	Base
	Code  string `modjo:"primary_key"`
	Label string
}

type regCounter struct {
	Base
	Seq  int64 `modjo:"primary_key"`
	Name string
}

type regLine struct {
	Base
	Order int64  `modjo:"primary_key"`
	Line  int32  `modjo:"primary_key;db_column=ln"`
	SKU   string `modjo:"index"`
}

type regPlace struct {
	Embedded
	City string
	Geo  *regGeo
}

type regGeo struct {
	Embedded
	Lat, Lng float64
}

type regShop struct {
	Model
	Place  regPlace
	Places []regPlace
}

func TestRegisterModels(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regAuthor{}, &regCode{}, reflect.TypeFor[regCounter](), regLine{}, regShop{}))
	require.NoError(t, r.Register(regAuthor{}), "registering again is a no-op")
	ms := r.Models()
	require.Len(t, ms, 5)
	assert.Equal(t, []string{"regAuthor", "regCode", "regCounter", "regLine", "regShop"},
		[]string{ms[0].Name, ms[1].Name, ms[2].Name, ms[3].Name, ms[4].Name})

	a, err := r.Meta(&regAuthor{})
	require.NoError(t, err)
	assert.Equal(t, "authors", a.Collection)
	assert.Equal(t, "writer", a.Options.VerboseName)
	assert.Equal(t, "writers", a.Options.VerboseNamePlural)
	assert.Equal(t, []string{"id", "name", "email", "created", "updated"}, a.FieldNames())
	assert.Same(t, a.Fields[0], a.PK)
	pk, ok := a.Field("pk")
	require.True(t, ok)
	assert.Same(t, a.PK, pk)
	assert.Equal(t, "_id", a.PK.Column)
	assert.Equal(t, fields.ObjectIdAutoField, a.PK.Kind)
	created, _ := a.Field("created")
	assert.Equal(t, []int{3, 0}, created.Index, "promoted from the abstract base")
	assert.True(t, created.AutoNowAdd)
	_, ok = a.Field("skipped")
	assert.False(t, ok)
	_, ok = a.Field("ignored")
	assert.False(t, ok)
	assert.Equal(t, a, mustMeta(t, r, reflect.TypeFor[regAuthor]()))
	m2, ok := r.MetaByCollection("authors")
	assert.True(t, ok)
	assert.Same(t, a, m2)

	c := mustMeta(t, r, regCode{})
	assert.Equal(t, "reg_code", c.Collection)
	assert.Equal(t, "code", c.PK.Name)
	assert.Equal(t, "_id", c.PK.Column)
	assert.False(t, c.PK.Auto)
	assert.Equal(t, []string{"code", "label"}, c.FieldNames())

	n := mustMeta(t, r, regCounter{})
	assert.True(t, n.PK.Auto)
	assert.Equal(t, fields.BigAutoField, n.PK.Kind)

	l := mustMeta(t, r, regLine{})
	require.Len(t, l.PKFields, 2)
	assert.Equal(t, fields.CompositePrimaryKey, l.PK.Kind)
	assert.Equal(t, "pk", l.PK.Name)
	assert.Nil(t, l.PK.Index)
	assert.Equal(t, "_id.order", l.PKFields[0].Path)
	assert.Equal(t, "_id.ln", l.PKFields[1].Path)
	assert.Equal(t, fields.BigIntegerField, l.PKFields[0].Kind, "composite members are not AutoFields")
	assert.False(t, l.PKFields[0].Auto)

	s := mustMeta(t, r, regShop{})
	place, _ := s.Field("place")
	assert.Equal(t, fields.EmbeddedModelField, place.Kind)
	require.NotNil(t, place.Embedded)
	assert.True(t, place.Embedded.Embedded)
	assert.Equal(t, "", place.Embedded.Collection)
	assert.Nil(t, place.Embedded.PK)
	places, _ := s.Field("places")
	assert.Equal(t, fields.EmbeddedModelArrayField, places.Kind)
	assert.True(t, places.Many)
	assert.Same(t, place.Embedded, places.Embedded)
	geo, _ := place.Embedded.Field("geo")
	assert.Equal(t, fields.EmbeddedModelField, geo.Kind)
	assert.True(t, geo.Null)
	em, err := r.Meta(regPlace{})
	require.NoError(t, err, "embedded types are registered implicitly")
	assert.Same(t, place.Embedded, em)

	_, err = r.Meta(struct{ X int }{})
	assert.ErrorIs(t, err, ErrNotRegistered)
	_, err = r.Meta(nil)
	assert.ErrorIs(t, err, ErrNotRegistered)
}

func mustMeta(t *testing.T, r *Registry, v any) *Meta {
	t.Helper()
	m, err := r.Meta(v)
	require.NoError(t, err)
	return m
}

// Registration error fixtures, one mistake each.
type (
	errNoModel struct{ Name string }
	errTwoPK   struct {
		Model
		Code string `modjo:"primary_key"`
	}
	errBaseNoPK struct {
		Base
		Name string
	}
	errBadTag struct {
		Model
		Title string `modjo:"max_lenght=3"`
	}
	errUnexportedTag struct {
		Model
		//lint:ignore U1000 present to show that a modjo tag on it is refused
		title string `modjo:"unique"`
	}
	errDupName struct {
		Model
		ISBN string
		Isbn string
	}
	errDupColumn struct {
		Model
		A string `modjo:"db_column=x"`
		B string `modjo:"db_column=x"`
	}
	errModelField struct {
		Model
		Other regCode
	}
	errPlainStruct struct {
		Model
		Point struct{ X, Y int }
	}
	errEmbeddedPtr struct {
		*Timestamps
		Model
	}
	errPK struct {
		Model
		Pk string
	}
	errBothBases struct {
		Model
		Embedded
	}
	errTwoModels struct {
		Model
		Timestamps2
	}
	Timestamps2 struct {
		Model
	}
	errAmbiguous struct {
		Model
		sharedA
		sharedB
	}
	sharedA     struct{ Note string }
	sharedB     struct{ Note string }
	errEmbIndex struct {
		Embedded
		City string `modjo:"unique"`
	}
	errEmbUser struct {
		Model
		Place errEmbIndex
	}
	errPolyMissing struct {
		Model
		Pay fields.Polymorphic `modjo:"types=Nope"`
	}
	errCollA    struct{ Model }
	errCollB    struct{ Model }
	errOrdering struct{ Model }
	errIndexes  struct {
		Model
		Name string
	}
	errTTL struct {
		Model
		Name string
	}
	errConstraint struct {
		Model
		Name string
	}
	errColl    struct{ Model }
	errPanics  struct{ Model }
	errEmbOpts struct {
		Embedded
		X int
	}
	errEmbOptsUser struct {
		Model
		E errEmbOpts
	}
	errPKColumn struct {
		Base
		Code string `modjo:"primary_key;db_column=code"`
	}
	errUintPK struct {
		Base
		N uint64 `modjo:"primary_key"`
	}
)

func (errCollA) Meta() Options    { return Options{Collection: "same"} }
func (errCollB) Meta() Options    { return Options{Collection: "same"} }
func (errOrdering) Meta() Options { return Options{Ordering: []string{"-nope"}} }
func (errIndexes) Meta() Options {
	return Options{Indexes: []Index{{Fields: []string{"name", "missing"}}}}
}
func (errTTL) Meta() Options {
	return Options{Indexes: []Index{{Fields: []string{"name"}, ExpireAfter: time.Hour}}}
}
func (errConstraint) Meta() Options {
	return Options{Constraints: []Constraint{UniqueConstraint{Fields: []string{"name"}}}}
}
func (errColl) Meta() Options    { return Options{Collection: "bad$name"} }
func (errPanics) Meta() Options  { panic("boom") }
func (errEmbOpts) Meta() Options { return Options{Collection: "x"} }

func TestRegistrationErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		models []any
		model  string
		field  string
		want   string
	}{
		{[]any{errNoModel{}}, "errNoModel", "", "missing model.Model"},
		{[]any{errTwoPK{}}, "errTwoPK", "Code", "model.Model already has a primary key (ID): embed model.Base"},
		{[]any{errBaseNoPK{}}, "errBaseNoPK", "", "model.Base needs a field tagged primary_key"},
		{[]any{errBadTag{}}, "errBadTag", "Title", `unknown tag option "max_lenght"`},
		{[]any{errUnexportedTag{}}, "errUnexportedTag", "title", "unexported field has a modjo tag"},
		{[]any{errDupName{}}, "errDupName", "Isbn", `lookup name "isbn" is also the name of field ISBN`},
		{[]any{errDupColumn{}}, "errDupColumn", "B", `stored key "x" is also used by field A`},
		{[]any{errModelField{}}, "errModelField", "Other", "cannot be stored inside another"},
		{[]any{errPlainStruct{}}, "errPlainStruct", "Point", "embed model.Embedded in it"},
		{[]any{errEmbeddedPtr{}}, "errEmbeddedPtr", "Timestamps", "embedded pointer"},
		{[]any{errPK{}}, "errPK", "Pk", `lookup name "pk" is not usable`},
		{[]any{errBothBases{}}, "errBothBases", "", "model.Embedded and model.Model"},
		{[]any{errTwoModels{}}, "errTwoModels", "", "embedded more than once"},
		{[]any{errAmbiguous{}}, "errAmbiguous", "Note", "declared twice at the same depth"},
		{[]any{errEmbUser{}}, "errEmbIndex", "City", "option unique is not valid in an embedded model"},
		{[]any{errPolyMissing{}}, "errPolyMissing", "Pay", "polymorphic type Nope is not a registered embedded model"},
		{[]any{errCollA{}, errCollB{}}, "errCollB", "", `collection "same" is already used by model errCollA`},
		{[]any{errOrdering{}}, "errOrdering", "", `Ordering "-nope"`},
		{[]any{errIndexes{}}, "errIndexes", "", `Indexes[0] field "missing"`},
		{[]any{errTTL{}}, "errTTL", "", "a TTL index (ExpireAfter) needs a date field, not a TextField"},
		{[]any{errConstraint{}}, "errConstraint", "", "a UniqueConstraint needs a Name"},
		{[]any{errColl{}}, "errColl", "", "cannot contain '$'"},
		{[]any{errPanics{}}, "errPanics", "", "Meta() panicked: boom"},
		{[]any{errEmbOptsUser{}}, "errEmbOpts", "", "an embedded model's Meta() may only set VerboseName"},
		{[]any{errUintPK{}}, "errUintPK", "N", "BSON has no unsigned 64-bit integer"},
		{[]any{errPKColumn{}}, "errPKColumn", "Code", "a primary key is stored as _id"},
		{[]any{42}, "int", "", "a model must be a struct"},
		{[]any{nil}, "<nil>", "", "cannot register nil"},
		{[]any{struct{ Model }{}}, "struct { model.Model }", "", "named struct type"},
	}
	for _, c := range cases {
		r := NewRegistry()
		err := r.Register(c.models...)
		var re *RegistrationError
		if !assert.True(t, errors.As(err, &re), "%v: got %v", c.models, err) {
			continue
		}
		assert.Equal(t, c.model, re.Model, c.want)
		assert.Equal(t, c.field, re.Field, c.want)
		assert.Contains(t, err.Error(), c.want)
		assert.Empty(t, r.Models(), "a failed Register registers nothing")
	}
	// A second model with the collection of an already registered one.
	r := NewRegistry()
	require.NoError(t, r.Register(errCollA{}))
	err := r.Register(errCollB{})
	assert.ErrorContains(t, err, `collection "same" is already used by model errCollA`)
	assert.Panics(t, func() { r.MustRegister(errCollB{}) })
}

type polyCard struct {
	Embedded
	Number string `modjo:"max_length=4"`
}

type polyBank struct {
	Embedded
	IBAN string
}

type polyOrder struct {
	Model
	Pay  fields.Polymorphic   `modjo:"types=polyCard|polyBank;null"`
	Alts []fields.Polymorphic `modjo:"types=polyCard,polyBank"`
}

type polyLabelled struct {
	Embedded
	Label string `modjo:"db_column=_label"`
}

type polyBadLabel struct {
	Model
	P fields.Polymorphic `modjo:"types=polyLabelled"`
}

func TestRegisterPolymorphic(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	// The embedded types may come after the model in the same call.
	require.NoError(t, r.Register(polyOrder{}, polyCard{}, polyBank{}))
	m := mustMeta(t, r, polyOrder{})
	pay, _ := m.Field("pay")
	assert.Equal(t, fields.PolymorphicEmbeddedModelField, pay.Kind)
	assert.True(t, pay.Null)
	require.Len(t, pay.Polymorphic, 2)
	assert.Equal(t, "polyCard", pay.Polymorphic[0].Name)
	alts, _ := m.Field("alts")
	assert.Equal(t, fields.PolymorphicEmbeddedModelArrayField, alts.Kind)
	assert.Len(t, alts.Polymorphic, 2)
	assert.Len(t, r.Models(), 1, "embedded models are not listed")

	r = NewRegistry()
	assert.ErrorContains(t, r.Register(polyOrder{}), "polymorphic type polyCard is not a registered embedded model")
	r = NewRegistry()
	require.NoError(t, r.Register(polyCard{}, polyBank{}))
	require.NoError(t, r.Register(polyOrder{}), "types registered by an earlier call")
	r = NewRegistry()
	assert.ErrorContains(t, r.Register(polyBadLabel{}, polyLabelled{}), "the polymorphic label key")
}

type optModel struct {
	Model
	Title    string  `modjo:"unique"`
	Slug     *string `modjo:"unique"`
	Status   string  `modjo:"index"`
	Expires  time.Time
	Shop     regPlace
	Owner    string
	Rank     *int32
	Settings map[string]any `modjo:"null;unique"`
}

func (optModel) Meta() Options {
	return Options{
		Ordering: []string{"title", "-shop.city", "pk"},
		Indexes: []Index{
			{Fields: []string{"status", "-expires"}},
			{Fields: []string{"shop.city"}, Name: "city", Sparse: true},
			{Fields: []string{"expires"}, ExpireAfter: 24 * time.Hour},
			{Fields: []string{"title"}}, // same keys as the unique field: merged
			{Fields: []string{"settings.theme"}},
		},
		Constraints: []Constraint{
			UniqueConstraint{Name: "one_published_title_per_owner", Fields: []string{"owner", "title"}, Condition: bson.D{{Key: "status", Value: "published"}}},
			&UniqueConstraint{Name: "rank_per_owner", Fields: []string{"owner", "rank"}},
		},
		UniqueTogether: [][]string{{"owner", "status"}},
	}
}

func TestIndexSpecs(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(optModel{}))
	m := mustMeta(t, r, optModel{})
	one := func() *int32 { n := int32(86400); return &n }()
	want := []IndexSpec{
		{Name: "title_1", Keys: bson.D{{Key: "title", Value: int32(1)}}, Unique: true},
		{Name: "slug_1", Keys: bson.D{{Key: "slug", Value: int32(1)}}, Unique: true,
			PartialFilter: bson.D{{Key: "slug", Value: bson.D{{Key: "$type", Value: "string"}}}}},
		{Name: "status_1", Keys: bson.D{{Key: "status", Value: int32(1)}}},
		{Name: "settings_1", Keys: bson.D{{Key: "settings", Value: int32(1)}}, Unique: true,
			PartialFilter: bson.D{{Key: "settings", Value: bson.D{{Key: "$exists", Value: true}}}}},
		{Name: "status_1_expires_-1", Keys: bson.D{{Key: "status", Value: int32(1)}, {Key: "expires", Value: int32(-1)}}},
		{Name: "city", Keys: bson.D{{Key: "shop.city", Value: int32(1)}}, Sparse: true},
		{Name: "expires_1", Keys: bson.D{{Key: "expires", Value: int32(1)}}, ExpireAfterSeconds: one},
		{Name: "settings.theme_1", Keys: bson.D{{Key: "settings.theme", Value: int32(1)}}},
		{Name: "one_published_title_per_owner", Keys: bson.D{{Key: "owner", Value: int32(1)}, {Key: "title", Value: int32(1)}}, Unique: true,
			PartialFilter: bson.D{{Key: "status", Value: "published"}}},
		{Name: "rank_per_owner", Keys: bson.D{{Key: "owner", Value: int32(1)}, {Key: "rank", Value: int32(1)}}, Unique: true,
			PartialFilter: bson.D{{Key: "rank", Value: bson.D{{Key: "$type", Value: "number"}}}}},
		{Name: "owner_1_status_1", Keys: bson.D{{Key: "owner", Value: int32(1)}, {Key: "status", Value: int32(1)}}, Unique: true},
	}
	assert.Equal(t, want, m.IndexSpecs())
	specs := m.IndexSpecs()
	specs[0].Keys[0].Key = "mutated"
	assert.Equal(t, "title", m.IndexSpecs()[0].Keys[0].Key, "IndexSpecs returns copies")
}

func TestRegistryConcurrentReads(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(regAuthor{}))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				m, err := r.Meta(regAuthor{})
				if err != nil {
					t.Error(err)
					return
				}
				a := &regAuthor{Name: "x", Email: "a@example.com"}
				raw, err := m.Encode(a)
				if err != nil {
					t.Error(err)
					return
				}
				var b regAuthor
				if err := m.Decode(raw, &b); err != nil {
					t.Error(err)
				}
				_ = m.Validate(a)
				_ = r.Models()
				if i == 0 && j == 0 {
					_ = r.Register(regCode{}) // registering while others read
				}
			}
		}(i)
	}
	wg.Wait()
}
