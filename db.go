package modjo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// CountersCollection is the collection that holds the next value of every integer
// AutoField primary key: one document {_id: "<collection>", seq: <last value>} per
// model collection, incremented atomically.
const CountersCollection = "modjo_counters"

// Config says where Open connects.
type Config struct {
	// URI is a MongoDB connection string, such as "mongodb://localhost:27017".
	URI string
	// Database is the database the models live in. When empty, the database named in
	// the URI's path is used ("mongodb://host/shop").
	Database string
	// Options are extra client options, applied after URI (so they win where both set
	// the same thing). Optional.
	Options *options.ClientOptions
}

// DB is a handle on one MongoDB database for the models of one registry. It is safe
// for concurrent use by multiple goroutines. Several DBs may share a registry.
type DB struct {
	client   *mongo.Client
	database *mongo.Database
	reg      *model.Registry
	owned    bool // the client was connected by Open and is closed by Close
	counters *mongo.Collection

	models sync.Map // *model.Meta -> *modelInfo
}

// Open connects to MongoDB, checks the connection with a ping, and returns a handle on
// cfg.Database for the models in reg. Close disconnects the client it opened.
func Open(ctx context.Context, cfg Config, reg *model.Registry) (*DB, error) {
	if cfg.URI == "" && cfg.Options == nil {
		return nil, errors.New("modjo: open: Config.URI is empty")
	}
	opts := []*options.ClientOptions{}
	uri := cfg.URI
	if uri != "" {
		opts = append(opts, options.Client().ApplyURI(uri))
	} else {
		uri = cfg.Options.GetURI()
	}
	if cfg.Options != nil {
		opts = append(opts, cfg.Options)
	}
	name := cfg.Database
	if name == "" && uri != "" {
		if cs, err := connstring.Parse(uri); err == nil {
			name = cs.Database
		}
	}
	if name == "" {
		return nil, errors.New("modjo: open: no database: set Config.Database or name one in the URI path")
	}
	client, err := mongo.Connect(opts...)
	if err != nil {
		return nil, fmt.Errorf("modjo: open: %w", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("modjo: open: ping: %w", err)
	}
	db := New(client, name, reg)
	db.owned = true
	return db, nil
}

// New returns a handle on the named database through an existing client, which the
// caller keeps owning: Close leaves it connected. A nil registry means an empty one.
func New(client *mongo.Client, database string, reg *model.Registry) *DB {
	if reg == nil {
		reg = model.NewRegistry()
	}
	d := client.Database(database)
	return &DB{client: client, database: d, reg: reg, counters: d.Collection(CountersCollection)}
}

// Close disconnects the client if Open connected it; a DB made by New leaves its
// client alone.
func (db *DB) Close(ctx context.Context) error {
	if !db.owned {
		return nil
	}
	if err := db.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("modjo: close: %w", err)
	}
	return nil
}

// Client returns the driver's client, for anything outside the ORM.
func (db *DB) Client() *mongo.Client { return db.client }

// Database returns the driver's handle on the database.
func (db *DB) Database() *mongo.Database { return db.database }

// Registry returns the registry of the models this handle serves.
func (db *DB) Registry() *model.Registry { return db.reg }

// Collection returns the driver's handle on a model's collection.
func (db *DB) Collection(meta *model.Meta) *mongo.Collection {
	return db.infoOf(meta).coll
}

// pkKind says how a model's primary key gets its value.
type pkKind uint8

const (
	pkObjectID  pkKind = iota // model.Model: a new ObjectID on insert
	pkUUID                    // a UUID primary key: a new random UUID on insert
	pkAuto                    // an integer AutoField: the next value of a counter
	pkChosen                  // a string (or other) key the program must set
	pkComposite               // several fields, stored as an _id sub-document
)

// modelInfo is what this package derives once per model and handle.
type modelInfo struct {
	meta    *model.Meta
	coll    *mongo.Collection
	pk      pkKind
	autoNow []*model.Field // fields that Save sets to the current time
	names   map[string]*model.Field
}

var objectIDType = reflect.TypeFor[bson.ObjectID]()

func (db *DB) infoOf(meta *model.Meta) *modelInfo {
	if v, ok := db.models.Load(meta); ok {
		return v.(*modelInfo)
	}
	info := &modelInfo{meta: meta, coll: db.database.Collection(meta.Collection), names: map[string]*model.Field{}}
	switch {
	case len(meta.PKFields) > 0:
		info.pk = pkComposite
	case meta.PK == nil:
		info.pk = pkChosen
	case meta.PK.Auto:
		info.pk = pkAuto
	case meta.PK.Type == objectIDType:
		info.pk = pkObjectID
	case isUUIDType(meta.PK.Type):
		info.pk = pkUUID
	default:
		info.pk = pkChosen
	}
	for _, f := range meta.Fields {
		info.names[f.Name] = f
		if f.AutoNow {
			info.autoNow = append(info.autoNow, f)
		}
	}
	v, _ := db.models.LoadOrStore(meta, info)
	return v.(*modelInfo)
}

// isUUIDType reports whether t is stored as a UUID: a named [16]byte other than
// ObjectID's [12]byte (google/uuid.UUID, gofrs/uuid.UUID, …).
func isUUIDType(t reflect.Type) bool {
	return t != nil && t.Kind() == reflect.Array && t.Len() == 16 && t.Elem().Kind() == reflect.Uint8
}

// resolve checks that obj is a non-nil pointer to a registered (non-embedded) model
// and returns what this handle knows about it.
func (db *DB) resolve(op string, obj any) (*modelInfo, error) {
	t := reflect.TypeOf(obj)
	if t == nil {
		return nil, fmt.Errorf("modjo: %s: nil instance", op)
	}
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("modjo: %s: want a pointer to a model struct, got %s", op, t)
	}
	if reflect.ValueOf(obj).IsNil() {
		return nil, fmt.Errorf("modjo: %s: nil *%s", op, t.Elem().Name())
	}
	meta, err := db.reg.Meta(obj)
	if err != nil {
		name := t.Elem().Name()
		if name == "" {
			name = t.Elem().String()
		}
		if errors.Is(err, model.ErrNotRegistered) {
			return nil, &opError{op: op, model: name, msg: "not a model of this handle's registry", sentinel: model.ErrNotRegistered}
		}
		return nil, &opError{op: op, model: name, err: err}
	}
	if meta.Embedded {
		return nil, fmt.Errorf("modjo: %s %s: an embedded model has no collection of its own: %w", op, meta.Name, model.ErrNotSupported)
	}
	return db.infoOf(meta), nil
}
