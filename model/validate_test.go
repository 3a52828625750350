package model

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	fields.MustRegisterValidator("model_test.no_x", func(v any) error {
		if s, ok := v.(string); ok && strings.Contains(s, "x") {
			return errors.New("Must not contain x.")
		}
		return nil
	})
	fields.MustRegisterValidator("model_test.short_list", func(v any) error {
		if l, ok := v.([]string); ok && len(l) == 2 {
			return errors.New("Two is not allowed.")
		}
		return nil
	})
}

type vSize struct {
	Embedded
	Name string `modjo:"max_length=3"`
	Qty  int    `modjo:"min_value=1"`
}

type vCard struct {
	Embedded
	Number string `modjo:"max_length=4"`
}

type vModel struct {
	Model
	Title  string           `modjo:"max_length=5"`
	Nick   string           `modjo:"blank;max_length=2"`
	Status string           `modjo:"choices=draft|published"`
	Level  int              `modjo:"choices=1:Low|2:High"`
	Rank   *int32           `modjo:"min_value=0;max_value=10"`
	Score  float64          `modjo:"min_value=0.5;max_value=1"`
	Price  bson.Decimal128  `modjo:"max_digits=5;decimal_places=2"`
	Amount apd.Decimal      `modjo:"max_digits=3;min_value=1"`
	Email  string           `modjo:"email;blank"`
	Site   *string          `modjo:"url"`
	Slug   string           `modjo:"slug"`
	IP     string           `modjo:"ip;blank"`
	Tags   []string         `modjo:"size=2;max_length=3;blank;validators=model_test.short_list"`
	Codes  []int            `modjo:"choices=1|2;blank"`
	Nums   *[]int64         `modjo:"min_value=0"`
	Day    fields.Date      `modjo:"blank"`
	At     fields.TimeOfDay `modjo:"blank"`
	Wait   time.Duration    `modjo:"max_value=1h"`
	Data   map[string]any
	Opt    any `modjo:"null;blank"`
	Doc    fields.JSON
	Bin    []byte             `modjo:"max_length=2;blank"`
	Size   vSize              `modjo:""`
	Sizes  []vSize            `modjo:"blank"`
	Pay    fields.Polymorphic `modjo:"types=vCard"`
	Named  string             `modjo:"validators=model_test.no_x|slug"`
	Stamp  time.Time          `modjo:"auto_now"`
}

func validMeta(t *testing.T) *Meta {
	t.Helper()
	r := NewRegistry()
	require.NoError(t, r.Register(vCard{}, vModel{}))
	return mustMeta(t, r, vModel{})
}

func validV() *vModel {
	price, _ := bson.ParseDecimal128("123.45")
	amount, _, _ := apd.NewFromString("12.5")
	return &vModel{
		Title: "Go", Status: "draft", Level: 1, Score: 0.75, Price: price, Amount: *amount, Slug: "go-lang",
		Data: map[string]any{"a": 1}, Doc: fields.JSON{Null: true}, Size: vSize{Name: "s", Qty: 1},
		Pay: fields.Polymorphic{Value: &vCard{Number: "1"}}, Named: "abc",
	}
}

func TestValidateValid(t *testing.T) {
	t.Parallel()
	m := validMeta(t)
	assert.Nil(t, m.Validate(validV()))
	v := validV()
	v.Sizes = []vSize{{Name: "a", Qty: 2}}
	v.Tags = []string{"a"}
	v.Level = 2
	v.Email = "a@example.com"
	v.IP = "::1"
	v.Day = fields.Date{Year: 2024, Month: 1, Day: 31}
	v.At = fields.NewTimeOfDay(23, 0, 0, 0)
	v.Wait = time.Hour
	v.Nums = &[]int64{0, 5}
	assert.Nil(t, m.Validate(v))
}

func TestValidateMessages(t *testing.T) {
	t.Parallel()
	m := validMeta(t)
	price, _ := bson.ParseDecimal128("1234.56")
	amount, _, _ := apd.NewFromString("0.5")
	site := "not a url"
	rank := int32(11)
	v := &vModel{
		Title: "Too long", Nick: "abc", Status: "gone", Level: 3, Rank: &rank, Score: 2, Price: price, Amount: *amount,
		Email: "nope", Site: &site, Slug: "", IP: "1.2.3", Tags: []string{"ok", "toolong", "x"}, Codes: []int{1, 3},
		Nums: &[]int64{-1}, Day: fields.Date{Year: 2023, Month: 2, Day: 29}, At: fields.NewTimeOfDay(25, 0, 0, 0),
		Wait: 2 * time.Hour, Data: map[string]any{}, Doc: fields.JSON{}, Bin: []byte("abc"),
		Size: vSize{Name: "long", Qty: 0}, Sizes: []vSize{{Name: "ok", Qty: 1}, {Name: "long", Qty: 1}},
		Pay: fields.Polymorphic{Value: &vCard{Number: "12345"}}, Named: "x y",
	}
	ve := m.Validate(v)
	require.NotNil(t, ve)
	assert.Equal(t, "vModel", ve.Model)
	want := map[string][]string{
		"title":  {"Ensure this value has at most 5 characters (it has 8)."},
		"nick":   {"Ensure this value has at most 2 characters (it has 3)."},
		"status": {`Value "gone" is not a valid choice.`},
		"level":  {"Value 3 is not a valid choice."},
		"rank":   {"Ensure this value is less than or equal to 10."},
		"score":  {"Ensure this value is less than or equal to 1."},
		"price":  {"Ensure that there are no more than 5 digits in total."},
		"amount": {"Ensure this value is greater than or equal to 1."},
		"email":  {"Enter a valid email address."},
		"site":   {"Enter a valid URL."},
		"slug":   {"This field cannot be blank."},
		"ip":     {"Enter a valid IPv4 or IPv6 address."},
		"tags": {"List contains 3 items, it should contain no more than 2.",
			"Item 2 in the array did not validate: Ensure this value has at most 3 characters (it has 7)."},
		"codes":        {"Item 2 in the array did not validate: Value 3 is not a valid choice."},
		"nums":         {"Item 1 in the array did not validate: Ensure this value is greater than or equal to 0."},
		"day":          {"2023-02-29 is not a valid date."},
		"at":           {"Not a valid time of day (it must lie in [00:00, 24:00))."},
		"wait":         {"Ensure this value is less than or equal to 1h0m0s."},
		"data":         {"This field cannot be blank."},
		"doc":          {"This field cannot be null."},
		"bin":          {"Ensure this value has at most 2 bytes (it has 3)."},
		"size.name":    {"Ensure this value has at most 3 characters (it has 4)."},
		"size.qty":     {"Ensure this value is greater than or equal to 1."},
		"sizes.1.name": {"Ensure this value has at most 3 characters (it has 4)."},
		"pay.number":   {"Ensure this value has at most 4 characters (it has 5)."},
		"named":        {"Must not contain x.", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."},
	}
	assert.Equal(t, want, ve.Fields)
	assert.Contains(t, ve.Error(), "modjo: vModel is not valid: ")
	assert.Equal(t, ve, ve.Err())

	// Null, blank and the remaining rules.
	v = validV()
	v.Title = ""
	v.Data = nil
	v.Pay = fields.Polymorphic{}
	v.Tags = []string{"a", "b"}
	v.Score = 0.1
	v.Price, _ = bson.ParseDecimal128("1.234")
	v.Amount = apd.Decimal{Form: apd.NaN}
	ve = m.Validate(v)
	require.NotNil(t, ve)
	assert.Equal(t, map[string][]string{
		"title":  {"This field cannot be blank."},
		"data":   {"This field cannot be null."},
		"pay":    {"This field cannot be null."},
		"tags":   {"Two is not allowed."},
		"score":  {"Ensure this value is greater than or equal to 0.5."},
		"price":  {"Ensure that there are no more than 2 decimal places."},
		"amount": {"Enter a finite number (NaN and infinities are not allowed)."},
	}, ve.Fields)

	v = validV()
	v.Price, _ = bson.ParseDecimal128("1234")
	v.Pay = fields.Polymorphic{Value: vSize{}}
	ve = m.Validate(v)
	require.NotNil(t, ve)
	assert.Equal(t, []string{"Ensure that there are no more than 3 digits before the decimal point."}, ve.Fields["price"])
	assert.Equal(t, []string{"A model.vSize is not one of the polymorphic types (vCard)."}, ve.Fields["pay"])

	ve = m.Validate(vModel{})
	require.NotNil(t, ve)
	assert.Contains(t, ve.Fields[""][0], "want a *vModel")
}

func TestDecimalDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]int64{
		"0": {1, 0}, "0.00": {2, 2}, "123.45": {5, 2}, "1E+3": {4, 0}, "0.001": {3, 3}, "-12.3": {3, 1}, "100": {3, 0},
	} {
		d, _, err := apd.NewFromString(in)
		require.NoError(t, err)
		digits, decimals := decimalDigits(d)
		assert.Equal(t, want, [2]int64{digits, decimals}, in)
	}
}
