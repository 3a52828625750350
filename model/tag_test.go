package model

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestParseTagSyntax(t *testing.T) {
	t.Parallel()
	opts, err := parseTag(" max_length=10 ; unique;help_text='a; b = c'; choices=a:'x|y'|b\\|c ;")
	require.NoError(t, err)
	require.Len(t, opts, 4)
	assert.Equal(t, tagOption{name: "max_length", raw: "10", hasValue: true}, opts[0])
	assert.Equal(t, tagOption{name: "unique"}, opts[1])
	assert.Equal(t, "help_text", opts[2].name)
	v, err := unquote(opts[2].raw)
	require.NoError(t, err)
	assert.Equal(t, "a; b = c", v)
	items := splitRaw(opts[3].raw, "|")
	require.Len(t, items, 2)
	k, l, ok := cutRaw(items[0], ':')
	require.True(t, ok)
	assert.Equal(t, "a", k)
	lv, _ := unquote(l)
	assert.Equal(t, "x|y", lv)
	bv, _ := unquote(items[1])
	assert.Equal(t, "b|c", bv)

	for _, bad := range []string{"Max_length=1", "max-length=1", "=1", "unique;unique", "a b"} {
		_, err := parseTag(bad)
		assert.Error(t, err, bad)
	}
	_, err = unquote("'open")
	assert.ErrorIs(t, err, errUnterminated)
	_, err = unquote(`trailing\`)
	assert.Error(t, err)
	got, err := unquote(`'it\'s' \\ ok`)
	require.NoError(t, err)
	assert.Equal(t, `it's \ ok`, got)
	got, _ = unquote("'  spaced  '")
	assert.Equal(t, "  spaced  ", got)
}

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ID": "id", "ISBN13": "isbn13", "HTTPServer": "http_server", "PublishedAt": "published_at",
		"UserID": "user_id", "A": "a", "BookReview": "book_review", "Field2Name": "field2_name",
		"Address2": "address2", "already_snake": "already_snake", "URLs": "urls", "IDsByName": "ids_by_name", "HTTPSend": "http_send", "MyHTTPSURL": "my_httpsurl",
		"Ünïcode": "ünïcode",
	} {
		assert.Equal(t, want, snakeCase(in), in)
	}
	assert.Equal(t, "book review", verboseName("BookReview"))
}

// tagCase builds one field of the given Go type with a tag, the way registration does.
func tagField(typ reflect.Type, tag string) (*Field, error) {
	b := &builder{r: NewRegistry(), staged: map[reflect.Type]*Meta{}}
	m := &Meta{Name: "M", byName: map[string]*Field{}}
	f := &Field{Meta: m, GoName: "F", Name: "f", Type: typ, Editable: true, DecimalPlaces: -1}
	if err := b.applyTag(f, tag); err != nil {
		return nil, &RegistrationError{Model: m.Name, Field: f.GoName, Err: err}
	}
	return f, nil
}

var (
	gString  = reflect.TypeFor[string]()
	gStringP = reflect.TypeFor[*string]()
	gInt     = reflect.TypeFor[int]()
	gInt32   = reflect.TypeFor[int32]()
	gFloat   = reflect.TypeFor[float64]()
	gTime    = reflect.TypeFor[time.Time]()
	gTimeP   = reflect.TypeFor[*time.Time]()
	gDec     = reflect.TypeFor[bson.Decimal128]()
	gAPD     = reflect.TypeFor[apd.Decimal]()
	gStrings = reflect.TypeFor[[]string]()
	gInts    = reflect.TypeFor[[]int64]()
	gAny     = reflect.TypeFor[any]()
	gMap     = reflect.TypeFor[map[string]any]()
	gBytes   = reflect.TypeFor[[]byte]()
	gDate    = reflect.TypeFor[fields.Date]()
	gTOD     = reflect.TypeFor[fields.TimeOfDay]()
	gDur     = reflect.TypeFor[time.Duration]()
	gUUID    = reflect.TypeFor[testUUID]()
	gOID     = reflect.TypeFor[bson.ObjectID]()
	gBool    = reflect.TypeFor[bool]()
	gJSON    = reflect.TypeFor[fields.JSON]()
)

type testUUID [16]byte

// TestTagOptions covers every option: what it sets, and where it is refused.
func TestTagOptions(t *testing.T) {
	t.Parallel()
	ok := []struct {
		typ   reflect.Type
		tag   string
		check func(t *testing.T, f *Field)
	}{
		{gString, "", func(t *testing.T, f *Field) { assert.Equal(t, fields.TextField, f.Kind) }},
		{gString, "max_length=20", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.CharField, f.Kind)
			assert.Equal(t, 20, f.MaxLength)
		}},
		{gString, "email", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.EmailField, f.Kind)
			assert.Equal(t, 254, f.MaxLength)
		}},
		{gString, "url;max_length=500", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.URLField, f.Kind)
			assert.Equal(t, 500, f.MaxLength)
		}},
		{gString, "slug", func(t *testing.T, f *Field) { assert.Equal(t, fields.SlugField, f.Kind) }},
		{gString, "ip", func(t *testing.T, f *Field) { assert.Equal(t, fields.GenericIPAddressField, f.Kind) }},
		{gString, "email=false", func(t *testing.T, f *Field) { assert.Equal(t, fields.TextField, f.Kind) }},
		{gStringP, "null;blank", func(t *testing.T, f *Field) {
			assert.True(t, f.Null)
			assert.True(t, f.Blank)
		}},
		{gStringP, "", func(t *testing.T, f *Field) { assert.True(t, f.Null, "pointers are nullable") }},
		{gString, "unique;index;db_column=t;verbose_name='The title';help_text=Use \\; here", func(t *testing.T, f *Field) {
			assert.True(t, f.Unique)
			assert.True(t, f.DBIndex)
			assert.Equal(t, "t", f.Column)
			assert.Equal(t, "t", f.Path)
			assert.Equal(t, "f", f.Name)
			assert.Equal(t, "The title", f.VerboseName)
			assert.Equal(t, "Use ; here", f.HelpText)
		}},
		{gString, "editable=false", func(t *testing.T, f *Field) { assert.False(t, f.Editable) }},
		{gString, "choices=draft:Draft|pub:'Published, final'|x", func(t *testing.T, f *Field) {
			assert.Equal(t, []fields.Choice{{Value: "draft", Label: "Draft"}, {Value: "pub", Label: "Published, final"}, {Value: "x", Label: "x"}}, f.Choices)
			assert.Equal(t, "Draft", f.ChoiceLabel("draft"))
			assert.Equal(t, "other", f.ChoiceLabel("other"))
		}},
		{gInt, "choices=1:One|2:Two;default=2", func(t *testing.T, f *Field) {
			assert.Equal(t, []fields.Choice{{Value: int64(1), Label: "One"}, {Value: int64(2), Label: "Two"}}, f.Choices)
			assert.Equal(t, 2, f.Default)
			assert.Equal(t, "Two", f.ChoiceLabel(2))
		}},
		{gInt, "min_value=0;max_value=10", func(t *testing.T, f *Field) {
			assert.Equal(t, int64(0), f.MinValue)
			assert.Equal(t, int64(10), f.MaxValue)
			assert.Equal(t, fields.PositiveBigIntegerField, f.Kind)
		}},
		{gInt32, "min_value=-5", func(t *testing.T, f *Field) { assert.Equal(t, fields.IntegerField, f.Kind) }},
		{gFloat, "min_value=0.5;max_value=1e3;default=1.5", func(t *testing.T, f *Field) {
			assert.Equal(t, 0.5, f.MinValue)
			assert.Equal(t, 1000.0, f.MaxValue)
			assert.Equal(t, 1.5, f.Default)
		}},
		{gDec, "max_digits=5;decimal_places=2;min_value=0;default=1.50", func(t *testing.T, f *Field) {
			assert.Equal(t, 5, f.MaxDigits)
			assert.Equal(t, 2, f.DecimalPlaces)
			assert.Equal(t, "1.50", f.Default.(bson.Decimal128).String())
		}},
		{gAPD, "decimal_places=0;choices=1.0|2", func(t *testing.T, f *Field) {
			assert.Equal(t, 0, f.DecimalPlaces)
			assert.Equal(t, 0, f.MaxDigits)
			assert.Equal(t, []fields.Choice{{Value: "1", Label: "1.0"}, {Value: "2", Label: "2"}}, f.Choices)
		}},
		{gDur, "min_value=1s;default=1m30s", func(t *testing.T, f *Field) {
			assert.Equal(t, time.Second, f.MinValue)
			assert.Equal(t, 90*time.Second, f.Default)
			assert.Equal(t, fields.DurationField, f.Kind)
		}},
		{gTime, "auto_now", func(t *testing.T, f *Field) {
			assert.True(t, f.AutoNow)
			assert.False(t, f.Editable)
			assert.True(t, f.Blank)
		}},
		{gTimeP, "auto_now_add", func(t *testing.T, f *Field) { assert.True(t, f.AutoNowAdd) }},
		{gDate, "auto_now_add", func(t *testing.T, f *Field) { assert.Equal(t, fields.DateField, f.Kind) }},
		{gTOD, "auto_now", func(t *testing.T, f *Field) { assert.Equal(t, fields.TimeField, f.Kind) }},
		{gTime, "default=2024-01-02T03:04:05.123456Z", func(t *testing.T, f *Field) {
			assert.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC), f.Default, "truncated to ms")
		}},
		{gTime, "default=now", func(t *testing.T, f *Field) {
			fn, ok := f.Default.(DefaultFunc)
			require.True(t, ok)
			now := time.Unix(100, 0).UTC()
			assert.Equal(t, now, fn(now))
		}},
		{gDate, "default=2024-05-06", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.Date{Year: 2024, Month: 5, Day: 6}, f.Default)
		}},
		{gDate, "default=today", func(t *testing.T, f *Field) { assert.IsType(t, DefaultFunc(nil), f.Default) }},
		{gTOD, "default=12:30", func(t *testing.T, f *Field) { assert.Equal(t, fields.NewTimeOfDay(12, 30, 0, 0), f.Default) }},
		{gUUID, "default=new;unique", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.UUIDField, f.Kind)
			v := f.Default.(DefaultFunc)(time.Time{}).(testUUID)
			assert.Equal(t, byte(0x40), v[6]&0xf0, "version 4")
		}},
		{gUUID, "default=123e4567-e89b-12d3-a456-426614174000", func(t *testing.T, f *Field) {
			assert.Equal(t, testUUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}, f.Default)
		}},
		{gOID, "default=new", func(t *testing.T, f *Field) { assert.Equal(t, fields.ObjectIdField, f.Kind) }},
		{gOID, "default=5f0c8f1b2e4a3b1c9d8e7f60", func(t *testing.T, f *Field) { assert.IsType(t, bson.ObjectID{}, f.Default) }},
		{gBool, "default=true", func(t *testing.T, f *Field) { assert.Equal(t, true, f.Default) }},
		{gBytes, "max_length=16;blank", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.BinaryField, f.Kind)
			assert.Equal(t, 16, f.MaxLength)
		}},
		{gStrings, "size=3;max_length=5;choices=a|b;email;default=a|b;blank", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.ArrayField, f.Kind)
			assert.Equal(t, fields.EmailField, f.ElemKind)
			assert.Equal(t, 3, f.Size)
			assert.Equal(t, 5, f.MaxLength)
			v := f.Default.(DefaultFunc)(time.Time{})
			assert.Equal(t, []string{"a", "b"}, v)
		}},
		{gInts, "min_value=1;default=", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.PositiveBigIntegerField, f.ElemKind)
			assert.Equal(t, []int64{}, f.Default.(DefaultFunc)(time.Time{}))
		}},
		{gAny, "null;default={\"a\": [1, 2.5, null]}", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.JSONField, f.Kind)
			assert.True(t, f.Null)
			fn := f.Default.(DefaultFunc)
			v1, v2 := fn(time.Time{}), fn(time.Time{})
			assert.Equal(t, map[string]any{"a": []any{int32(1), 2.5, nil}}, v1)
			v1.(map[string]any)["b"] = 1
			assert.NotContains(t, v2.(map[string]any), "b", "every default is a fresh copy")
		}},
		{gAny, "default=null", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.JSONNull, f.Default.(DefaultFunc)(time.Time{}))
		}},
		{gMap, "default={}", func(t *testing.T, f *Field) {
			assert.Equal(t, map[string]any{}, f.Default.(DefaultFunc)(time.Time{}))
		}},
		{gJSON, "blank;default=[1]", func(t *testing.T, f *Field) {
			assert.Equal(t, fields.JSON{Value: []any{int32(1)}}, f.Default.(DefaultFunc)(time.Time{}))
		}},
		{gString, "validators=email|slug", func(t *testing.T, f *Field) {
			assert.Equal(t, []string{"email", "slug"}, f.Validators)
		}},
		{gString, "validators=email,url", func(t *testing.T, f *Field) { assert.Len(t, f.validators, 2) }},
		{gInt, "primary_key", func(t *testing.T, f *Field) {
			assert.True(t, f.PrimaryKey)
			assert.True(t, f.Auto)
			assert.Equal(t, fields.BigAutoField, f.Kind)
		}},
		{gInt32, "primary_key", func(t *testing.T, f *Field) { assert.Equal(t, fields.AutoField, f.Kind) }},
		{reflect.TypeFor[int16](), "primary_key", func(t *testing.T, f *Field) { assert.Equal(t, fields.SmallAutoField, f.Kind) }},
		{gString, "primary_key=true", func(t *testing.T, f *Field) {
			assert.True(t, f.PrimaryKey)
			assert.False(t, f.Auto)
		}},
		{gUUID, "primary_key", func(t *testing.T, f *Field) { assert.Equal(t, fields.UUIDField, f.Kind) }},
		{gOID, "primary_key", func(t *testing.T, f *Field) { assert.Equal(t, fields.ObjectIdAutoField, f.Kind) }},
	}
	for _, c := range ok {
		f, err := tagField(c.typ, c.tag)
		if !assert.NoError(t, err, "%s `%s`", c.typ, c.tag) {
			continue
		}
		c.check(t, f)
	}

	bad := []struct {
		typ  reflect.Type
		tag  string
		want string
	}{
		{gString, "colour=red", `unknown tag option "colour"`},
		{gString, "null", "null needs a pointer type (*string)"},
		{gInt, "max_length=3", "max_length is not valid for a BigIntegerField"},
		{gString, "max_length=0", "want an integer ≥ 1"},
		{gString, "max_length=abc", "want an integer ≥ 1"},
		{gString, "max_length", "needs a value"},
		{gString, "min_value=1", "min_value is not valid for a TextField"},
		{gInt, "min_value=x", "min_value: want an integer"},
		{gInt, "min_value=5;max_value=1", "min_value is greater than max_value"},
		{gFloat, "max_value=NaN", "want a number"},
		{gString, "max_digits=3", "max_digits is not valid"},
		{gDec, "max_digits=2;decimal_places=3", "decimal_places is greater than max_digits"},
		{gDec, "decimal_places=-1", "want an integer ≥ 0"},
		{gString, "size=2", "size is not valid"},
		{gInt, "email", "email is not valid for a BigIntegerField"},
		{gString, "email;url", "options email and url exclude each other"},
		{gString, "auto_now", "auto_now is not valid for a TextField"},
		{gTime, "auto_now;auto_now_add", "exclude each other"},
		{gTime, "auto_now;default=now", "auto_now and default exclude each other"},
		{gStrings, "auto_now_add", "auto_now_add is not valid"},
		{gString, "editable", "needs a value"},
		{gString, "editable=maybe", "want true or false"},
		{gString, "unique=yes", "want true or false"},
		{gString, "db_column=a.b", "not a valid stored key"},
		{gString, "db_column=$x", "not a valid stored key"},
		{gString, "db_column=_id", "not a valid stored key"},
		{gString, "help_text='open", "unterminated quote"},
		{gInt, "default=abc", "default: want an integer that fits int"},
		{reflect.TypeFor[int8](), "default=300", "fits int8"},
		{reflect.TypeFor[uint8](), "default=-1", "fits uint8"},
		{gBool, "default=yes!", "want true or false"},
		{gTime, "default=yesterday", "RFC 3339"},
		{gDate, "default=2024-13-01", "invalid date"},
		{gUUID, "default=xyz", "want a UUID"},
		{gOID, "default=xyz", "want 24 hex digits"},
		{gDec, "default=1.2.3", "invalid decimal"},
		{gDur, "default=5 parsecs", "default"},
		{gBytes, "default=abc", "default: not supported for a BinaryField"},
		{gMap, "default=[1]", "must be a JSON object"},
		{gAny, "default={", "want JSON"},
		{gAny, "default=1 2", "want one JSON value"},
		{gInt, "choices=1|1", "listed twice"},
		{gInt, "choices=a", "choices: want an integer"},
		{gTime, "choices=x", "choices is not valid for a DateTimeField"},
		{gString, "validators=no_such_validator", `unknown validator "no_such_validator"`},
		{gString, "validators=", "empty name"},
		{gString, "validators=a||b", "empty name"},
		{gString, "types=A", "types= is only for fields.Polymorphic"},
		{reflect.TypeFor[fields.Polymorphic](), "", "needs types="},
		{gStringP, "primary_key", "a primary key cannot be null"},
		{gStrings, "primary_key", "cannot be a primary key"},
		{gAny, "primary_key", "cannot be a primary key"},
		{reflect.TypeFor[uint64](), "", "BSON has no unsigned 64-bit integer"},
		{reflect.TypeFor[uint](), "", "BSON has no unsigned 64-bit integer"},
		{reflect.TypeFor[complex128](), "", "unsupported Go type complex128"},
		{reflect.TypeFor[chan int](), "", "unsupported Go type"},
		{reflect.TypeFor[map[string]string](), "", "a JSONField is map[string]any"},
		{reflect.TypeFor[error](), "", "a JSONField is any"},
		{reflect.TypeFor[**string](), "", "pointer to pointer"},
		{reflect.TypeFor[*map[string]any](), "", "nullable already"},
		{reflect.TypeFor[struct{ A int }](), "", "embed model.Embedded"},
		{reflect.TypeFor[[4]int](), "", "unsupported Go type"},
	}
	for _, c := range bad {
		_, err := tagField(c.typ, c.tag)
		if !assert.Error(t, err, "%s `%s`", c.typ, c.tag) {
			continue
		}
		var re *RegistrationError
		require.True(t, errors.As(err, &re))
		assert.Equal(t, "M", re.Model)
		assert.Equal(t, "F", re.Field)
		assert.Contains(t, err.Error(), c.want, "%s `%s`", c.typ, c.tag)
	}
}

// FuzzParseTag feeds arbitrary tags to field registration for several Go types: it must
// never panic, and every failure must be a *RegistrationError.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{
		"", "-", "null", "max_length=10;unique", "choices=a:A|b:'B; c'|\\|", "default='x", "help_text='a\\'b'",
		"min_value=1;max_value=0", "types=A,B", "validators=email|url", "default={\"a\":1}", "size=2;default=a|b",
		"auto_now;auto_now_add", "db_column=_id", "primary_key", "decimal_places=2;max_digits=1", "default=now",
		"default=new", "choices=1:one|2", "editable=false", "ip;email", "\\", "'", ";;;", "a=b=c",
	} {
		f.Add(s)
	}
	types := []reflect.Type{gString, gStringP, gInt, gInt32, gFloat, gTime, gTimeP, gDec, gAPD, gStrings, gInts,
		gAny, gMap, gJSON, gBytes, gDate, gTOD, gDur, gUUID, gOID, gBool, reflect.TypeFor[fields.Polymorphic](),
		reflect.TypeFor[[]fields.Polymorphic](), reflect.TypeFor[uint8]()}
	f.Fuzz(func(t *testing.T, tag string) {
		for _, typ := range types {
			_, err := tagField(typ, tag)
			if err != nil {
				var re *RegistrationError
				if !errors.As(err, &re) {
					t.Fatalf("%s `%s`: error %T is not a *RegistrationError: %v", typ, tag, err, err)
				}
				if re.Error() == "" {
					t.Fatal("empty message")
				}
			}
		}
		_, _ = parseTag(tag)
		_, _ = unquote(tag)
		_, _ = listItems(tag, "|,")
	})
}
