package model_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type Address struct {
	model.Embedded
	Street string
	City   string `modjo:"max_length=40"`
}

type Author struct {
	model.Model
	Name   string   `modjo:"max_length=100"`
	Email  string   `modjo:"email;unique"`
	Home   Address  // EmbeddedModelField
	Tags   []string `modjo:"blank;size=5"`
	Born   *time.Time
	Joined time.Time `modjo:"auto_now_add"`
	Level  string    `modjo:"choices=junior:Junior|senior:Senior;default=junior"`
}

func (Author) Meta() model.Options {
	return model.Options{Collection: "authors", Ordering: []string{"name"}}
}

func ExampleRegistry_Register() {
	reg := model.NewRegistry()
	if err := reg.Register(Author{}); err != nil {
		panic(err)
	}
	m, _ := reg.Meta(Author{})
	fmt.Println(m.Name, "→", m.Collection)
	for _, f := range m.Fields {
		fmt.Printf("%-7s %-22s stored as %q\n", f.Name, f.Kind, f.Path)
	}
	// Output:
	// Author → authors
	// id      ObjectIdAutoField      stored as "_id"
	// name    CharField              stored as "name"
	// email   EmailField             stored as "email"
	// home    EmbeddedModelField     stored as "home"
	// tags    ArrayField             stored as "tags"
	// born    DateTimeField          stored as "born"
	// joined  DateTimeField          stored as "joined"
	// level   TextField              stored as "level"
}

func ExampleRegistry_Register_error() {
	type Draft struct {
		model.Model
		Title string `modjo:"max_lenght=20"` // misspelt option
	}
	err := model.NewRegistry().Register(Draft{})
	var re *model.RegistrationError
	fmt.Println(errors.As(err, &re), re.Model, re.Field)
	fmt.Println(err)
	// Output:
	// true Draft Title
	// modjo: model Draft, field Title: unknown tag option "max_lenght"
}

func ExampleMeta_Encode() {
	reg := model.NewRegistry()
	reg.MustRegister(Author{})
	m, _ := reg.Meta(Author{})

	a := &Author{Model: model.Model{ID: bson.ObjectID{1}}, Name: "Ann", Email: "ann@example.com",
		Home: Address{City: "Oslo"}}
	// Save does this before writing: defaults, auto_now_add, ms-truncated UTC times.
	_ = m.PrepareSave(a, true, time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC))
	raw, _ := m.Encode(a)
	fmt.Println(raw)

	var back Author
	_ = m.Decode(raw, &back)
	fmt.Println(back.Name, back.Home.City, back.Level, back.Joined.Format(time.RFC3339Nano))
	// Output:
	// {"_id": {"$oid":"010000000000000000000000"},"name": "Ann","email": "ann@example.com","home": {"street": "","city": "Oslo"},"tags": [],"born": null,"joined": {"$date":{"$numberLong":"1714979289123"}},"level": "junior"}
	// Ann Oslo junior 2024-05-06T07:08:09.123Z
}

func ExampleMeta_Decode_unknownKeys() {
	reg := model.NewRegistry()
	reg.MustRegister(Author{})
	m, _ := reg.Meta(Author{})

	// A document written by another program, with a key the model does not declare.
	stored, _ := bson.Marshal(bson.D{{Key: "_id", Value: bson.ObjectID{2}}, {Key: "name", Value: "Bo"}, {Key: "legacy_id", Value: 42}})
	var a Author
	_ = m.Decode(stored, &a)
	fmt.Println(a.Name, model.StateOf(&a).Extra[0].Key())

	a.Name = "Bob"
	raw, _ := m.Encode(&a) // a full-replace save keeps legacy_id
	fmt.Println(bson.Raw(raw).Lookup("legacy_id"))

	// A stored value that does not fit is an error naming the field and the _id.
	bad, _ := bson.Marshal(bson.D{{Key: "_id", Value: "x1"}, {Key: "name", Value: 7}})
	fmt.Println(m.Decode(bad, &a))
	// Output:
	// Bo legacy_id
	// {"$numberInt":"42"}
	// modjo: cannot load Author document _id "x1": field id: a stored string does not fit bson.ObjectID
}

func ExampleMeta_Validate() {
	reg := model.NewRegistry()
	reg.MustRegister(Author{})
	m, _ := reg.Meta(Author{})

	a := &Author{Name: "", Email: "not-an-email", Level: "boss", Home: Address{City: "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"}}
	ve := m.Validate(a)
	for _, name := range []string{"name", "email", "level", "home.city"} {
		fmt.Println(name+":", ve.Fields[name])
	}
	// Output:
	// name: [This field cannot be blank.]
	// email: [Enter a valid email address.]
	// level: [Value "boss" is not a valid choice.]
	// home.city: [Ensure this value has at most 40 characters (it has 58).]
}

type Card struct {
	model.Embedded
	Last4 string
}

type Transfer struct {
	model.Embedded
	IBAN string
}

type Order struct {
	model.Model
	Payment fields.Polymorphic `modjo:"types=Card|Transfer"`
	Extra   any                `modjo:"null"` // JSONField
}

func ExampleRegistry_Register_polymorphic() {
	reg := model.NewRegistry()
	reg.MustRegister(Card{}, Transfer{}, Order{})
	m, _ := reg.Meta(Order{})

	o := &Order{Payment: fields.Polymorphic{Value: &Transfer{IBAN: "NO9386011117947"}}, Extra: fields.JSONNull}
	raw, _ := m.Encode(o)
	fmt.Println(bson.Raw(raw).Lookup("payment"))
	fmt.Println(bson.Raw(raw).Lookup("extra"))

	var back Order
	_ = m.Decode(raw, &back)
	fmt.Printf("%T %v\n", back.Payment.Value, back.Extra == fields.JSONNull)
	// Output:
	// {"_label": "Transfer","iban": "NO9386011117947"}
	// null
	// *model_test.Transfer true
}

func ExampleRegistry_Connect() {
	reg := model.NewRegistry()
	reg.MustRegister(Author{})
	m, _ := reg.Meta(Author{})
	off := reg.Connect(model.PostSave, func(_ context.Context, e *model.Event) error {
		fmt.Println("saved", e.Meta.Name, "created:", e.Created)
		return nil
	}, Author{})
	defer off()
	// The database handle sends the events; here one is sent by hand.
	_ = reg.Send(context.Background(), &model.Event{Signal: model.PostSave, Meta: m, Instance: &Author{}, Created: true})
	// Output:
	// saved Author created: true
}

func ExampleMeta_IndexSpecs() {
	reg := model.NewRegistry()
	reg.MustRegister(Author{})
	m, _ := reg.Meta(Author{})
	for _, s := range m.IndexSpecs() {
		fmt.Println(s.Name, s.Keys, s.Unique)
	}
	// Output:
	// email_1 {"email":{"$numberInt":"1"}} true
}
