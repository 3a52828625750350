package modjo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SaveOption changes what Save does.
type SaveOption func(*saveOptions)

type saveOptions struct {
	fields    []string
	hasFields bool // UpdateFields was given, possibly with no names
	validate  bool
}

// UpdateFields makes Save write only the named fields (lookup names) with a $set, as
// Django's save(update_fields=[...]). The instance must already have a primary key
// and its document must exist, else Save returns an error wrapping ErrDoesNotExist.
// Naming no field makes Save do nothing at all, hooks and signals included (Django's
// rule for an empty update_fields). auto_now fields are refreshed only when named.
func UpdateFields(names ...string) SaveOption {
	return func(o *saveOptions) {
		o.fields = append(o.fields, names...)
		o.hasFields = true
	}
}

// Validate makes Save run FullClean before writing (after the BeforeSave hook, the
// PreSave signal, defaults and auto_now), and return its *ValidationError without
// writing when the instance is not valid. When Save writes only some fields
// (UpdateFields, a partially loaded instance), only those are validated, as Django's
// full_clean(exclude=...). Django's Save does not validate unless asked.
func Validate() SaveOption {
	return func(o *saveOptions) { o.validate = true }
}

// Option builders are only read by the driver, so one of each serves every call.
var (
	replaceUpsert = options.Replace().SetUpsert(true)
	counterUpsert = options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
)

// saveMode is what a save writes.
type saveMode uint8

const (
	modeInsert  saveMode = iota // InsertOne of the whole document
	modeReplace                 // ReplaceOne by _id, upserting
	modeUpdate                  // UpdateOne by _id with $set of some fields
)

// Save writes a model instance (a pointer to a registered model struct) to its
// collection:
//
//   - an instance whose primary key is unset (zero ObjectID, zero UUID, zero integer
//     AutoField) is inserted and gets its key (a new ObjectID, a random UUID, the next
//     AutoField value);
//   - an instance with a key replaces the stored document (upserting, so a key the
//     program chose, such as a string, inserts the first time); keys the model does not
//     declare, kept from the load, are written back;
//   - with UpdateFields, or when the instance was partially loaded (deferred fields), only
//     those (or only the loaded) fields are written with $set.
//
// Defaults and auto_now_add apply when the instance is new (not loaded from or saved to
// the database), auto_now on every save, and times are truncated to milliseconds. The
// order is: the BeforeSave hook, the PreSave signal, defaults and auto_now, FullClean
// (with Validate), the write, the PostSave signal, the AfterSave hook. An error from a
// hook or a PreSave receiver cancels the save. A duplicate key returns an error that
// matches both ErrIntegrity and mongo.IsDuplicateKeyError.
func (db *DB) Save(ctx context.Context, obj any, opts ...SaveOption) error {
	info, err := db.resolve("save", obj)
	if err != nil {
		return err
	}
	var so saveOptions
	for _, o := range opts {
		if o != nil {
			o(&so)
		}
	}
	return db.save(ctx, info, obj, &so, false)
}

// Create inserts a new model instance, as Django's objects.create: unlike Save it never
// updates, so an instance whose key is already stored fails with ErrIntegrity. An unset
// ObjectID, UUID or AutoField key is assigned; a key the program chooses (a string, a
// composite key) must be set.
func (db *DB) Create(ctx context.Context, obj any) error {
	info, err := db.resolve("create", obj)
	if err != nil {
		return err
	}
	return db.save(ctx, info, obj, &saveOptions{}, true)
}

func (db *DB) save(ctx context.Context, info *modelInfo, obj any, so *saveOptions, create bool) error {
	meta := info.meta
	op := "save"
	if create {
		op = "create"
	}
	var fields []string
	if so.hasFields {
		if len(so.fields) == 0 {
			return nil
		}
		var err error
		if fields, err = info.checkUpdateFields(op, so.fields); err != nil {
			return err
		}
	}

	if h, ok := obj.(model.BeforeSaver); ok {
		if err := h.BeforeSave(ctx); err != nil {
			return &opError{op: op, model: meta.Name, msg: "BeforeSave", err: err}
		}
	}
	if err := db.send(ctx, model.PreSave, meta, obj, false, fields); err != nil {
		return &opError{op: op, model: meta.Name, msg: "pre-save receiver", err: err}
	}

	// The mode is chosen after the hooks, which may set the key (a slug from a title).
	st := model.StateOf(obj)
	pk, set := meta.PKValue(obj)
	if !set && info.pk == pkChosen {
		return &opError{op: op, model: meta.Name, msg: fmt.Sprintf("the primary key %s must be set before saving (only ObjectID, UUID and integer AutoField keys are assigned)", meta.PK.Name)}
	}
	mode := modeReplace
	switch {
	case create:
		mode = modeInsert
	case fields != nil:
		mode = modeUpdate
		if !set && info.pk != pkComposite {
			return &opError{op: op, model: meta.Name, msg: "UpdateFields on an instance without a primary key; save it first"}
		}
	case !set && info.pk != pkComposite:
		mode = modeInsert
	case st != nil && len(st.Deferred) > 0:
		mode = modeUpdate
		fields = info.loadedFields(st.Deferred)
	}

	// An insert that fails leaves the instance as it was: without a key it did not have.
	assigned := mode == modeInsert && !set && info.pk != pkComposite

	adding := mode == modeInsert || (mode == modeReplace && (st == nil || !st.Loaded))
	var kept []reflect.Value
	if mode == modeUpdate {
		kept = info.keepAutoNow(obj, fields)
	}
	if err := meta.PrepareSave(obj, adding, time.Now()); err != nil {
		return info.failInsert(obj, assigned, &opError{op: op, model: meta.Name, err: err})
	}
	if kept != nil {
		info.restoreAutoNow(obj, kept)
	}
	if assigned && info.pk != pkAuto {
		if err := info.ensurePK(obj); err != nil {
			return info.failInsert(obj, assigned, &opError{op: op, model: meta.Name, err: err})
		}
	}
	if so.validate {
		var only []string
		if mode == modeUpdate {
			only = fields
		}
		if err := db.fullClean(ctx, info, obj, only); err != nil {
			return info.failInsert(obj, assigned, err)
		}
	}
	if assigned && info.pk == pkAuto {
		seq, err := db.nextSeq(ctx, info)
		if err != nil {
			return info.failInsert(obj, assigned, err)
		}
		if err := meta.SetPK(obj, seq); err != nil {
			return info.failInsert(obj, assigned, &opError{op: op, model: meta.Name, err: err})
		}
	}
	if assigned {
		if info.pk == pkObjectID {
			pk = nil // the driver assigns the stored key (see insertDoc)
		} else {
			pk, _ = meta.PKValue(obj)
		}
	}

	created := mode == modeInsert
	switch mode {
	case modeInsert:
		raw, dropped, err := info.insertDoc(obj, assigned)
		if err != nil {
			return info.failInsert(obj, assigned, &opError{op: op, model: meta.Name, pk: formatPK(pk), err: err})
		}
		res, err := info.coll.InsertOne(ctx, raw)
		if err != nil {
			return info.failInsert(obj, assigned, writeError(op, info, pk, err))
		}
		if dropped {
			id, ok := res.InsertedID.(bson.ObjectID)
			if !ok {
				return &opError{op: op, model: meta.Name, msg: fmt.Sprintf("the driver assigned a %T _id", res.InsertedID)}
			}
			info.setObjectID(obj, id)
			pk = id
		}
	case modeReplace:
		raw, err := meta.Encode(obj)
		if err != nil {
			return &opError{op: op, model: meta.Name, pk: formatPK(pk), err: err}
		}
		res, err := info.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: pk}}, raw, replaceUpsert)
		if err != nil {
			return writeError(op, info, pk, err)
		}
		created = res.UpsertedCount > 0
	case modeUpdate:
		// EncodeUpdate gives $set for stored values and $unset for fields that are
		// absent when empty (a JSONField without a value), which $set cannot express.
		update, err := meta.EncodeUpdate(obj, fields)
		if err != nil {
			return &opError{op: op, model: meta.Name, pk: formatPK(pk), err: err}
		}
		if len(update) > 0 {
			res, err := info.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: pk}}, update)
			if err != nil {
				return writeError(op, info, pk, err)
			}
			if res.MatchedCount == 0 {
				return &opError{op: op, model: meta.Name, pk: formatPK(pk), msg: "no stored document to update", sentinel: model.ErrDoesNotExist}
			}
		}
	}
	model.EnsureState(obj).Loaded = true

	if err := db.send(ctx, model.PostSave, meta, obj, created, fields); err != nil {
		return &opError{op: op, model: meta.Name, pk: formatPK(pk), msg: "post-save receiver", err: err}
	}
	if h, ok := obj.(model.AfterSaver); ok {
		if err := h.AfterSave(ctx); err != nil {
			return &opError{op: op, model: meta.Name, pk: formatPK(pk), msg: "AfterSave", err: err}
		}
	}
	return nil
}

// insertDoc encodes obj for an insert. When Save assigned an ObjectID key, the _id
// element is cut off and the driver assigns the key (read back from the insert's
// result): the driver prepends a new ObjectID cheaply, but decodes the _id of a
// document that has one through a buffered reader of its own, which costs more than
// encoding the whole document. Both ObjectIDs are equally new; the instance gets the
// stored one.
func (info *modelInfo) insertDoc(obj any, assigned bool) (doc bson.Raw, dropped bool, err error) {
	raw, err := info.meta.Encode(obj)
	if err != nil {
		return nil, false, err
	}
	if assigned && info.pk == pkObjectID {
		if d, ok := dropObjectID(raw); ok {
			return d, true, nil
		}
	}
	return raw, false, nil
}

// dropObjectID removes a leading ObjectID _id element from a document, in place: the
// 17 bytes of the element are skipped and the last four of them become the new length.
func dropObjectID(raw bson.Raw) (bson.Raw, bool) {
	const n = 1 + 4 + 12 // type byte, "_id\x00", ObjectID
	if len(raw) < 4+n+1 || raw[4] != byte(bson.TypeObjectID) || string(raw[5:9]) != "_id\x00" {
		return nil, false
	}
	d := raw[n:]
	binary.LittleEndian.PutUint32(d, uint32(len(d)))
	return d, true
}

// send fires a signal, without building an event when nobody listens.
func (db *DB) send(ctx context.Context, s model.Signal, meta *model.Meta, obj any, created bool, fields []string) error {
	if !db.reg.HasReceivers(s, meta) {
		return nil
	}
	return db.reg.Send(ctx, &model.Event{Signal: s, Meta: meta, Instance: obj, Created: created, UpdateFields: fields})
}

// checkUpdateFields checks UpdateFields names (lookup names; the key cannot be
// updated) and drops duplicates.
func (info *modelInfo) checkUpdateFields(op string, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		f, ok := info.meta.Field(n)
		if !ok {
			choices := make([]string, 0, len(info.meta.Fields))
			for _, f := range info.meta.Fields {
				if !f.PrimaryKey {
					choices = append(choices, f.Name)
				}
			}
			return nil, &model.FieldError{Model: info.meta.Name, Name: n, Kind: "field", Choices: choices}
		}
		if f.PrimaryKey || f == info.meta.PK {
			return nil, &opError{op: op, model: info.meta.Name, field: n, msg: "UpdateFields cannot name the primary key", sentinel: model.ErrNotSupported}
		}
		if !slices.Contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out, nil
}

// loadedFields lists the non-key fields a partial load read: what a plain Save of a
// partially loaded instance writes.
func (info *modelInfo) loadedFields(deferred map[string]bool) []string {
	out := make([]string, 0, len(info.meta.Fields))
	for _, f := range info.meta.Fields {
		if !f.PrimaryKey && !deferred[f.Name] {
			out = append(out, f.Name)
		}
	}
	return out
}

// keepAutoNow saves the auto_now fields a partial write will not store, so that
// PrepareSave's new time does not make the instance differ from the database.
func (info *modelInfo) keepAutoNow(obj any, fields []string) []reflect.Value {
	if len(info.autoNow) == 0 {
		return nil
	}
	ev := reflect.ValueOf(obj).Elem()
	kept := make([]reflect.Value, len(info.autoNow))
	for i, f := range info.autoNow {
		if slices.Contains(fields, f.Name) {
			continue
		}
		v := reflect.New(f.Type).Elem()
		v.Set(ev.FieldByIndex(f.Index))
		kept[i] = v
	}
	return kept
}

func (info *modelInfo) restoreAutoNow(obj any, kept []reflect.Value) {
	ev := reflect.ValueOf(obj).Elem()
	for i, f := range info.autoNow {
		if kept[i].IsValid() {
			ev.FieldByIndex(f.Index).Set(kept[i])
		}
	}
}

// failInsert clears the key an insert assigned before failing, so the instance is as
// it was, and returns err.
func (info *modelInfo) failInsert(obj any, assigned bool, err error) error {
	if assigned {
		info.clearPK(obj)
	}
	return err
}

// setObjectID stores an ObjectID key without going through a BSON round trip.
func (info *modelInfo) setObjectID(obj any, id bson.ObjectID) {
	fv := reflect.ValueOf(obj).Elem().FieldByIndex(info.meta.PK.Index)
	*fv.Addr().Interface().(*bson.ObjectID) = id
}

// clearPK sets the primary key field back to its zero value.
func (info *modelInfo) clearPK(obj any) {
	if pk := info.meta.PK; pk != nil && pk.Index != nil {
		reflect.ValueOf(obj).Elem().FieldByIndex(pk.Index).SetZero()
	}
}

// ensurePK assigns a new ObjectID or random (version 4) UUID when PrepareSave left
// the key unset.
func (info *modelInfo) ensurePK(obj any) error {
	if _, set := info.meta.PKValue(obj); set {
		return nil
	}
	switch info.pk {
	case pkObjectID:
		return info.meta.SetPK(obj, bson.NewObjectID())
	case pkUUID:
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		return info.meta.SetPK(obj, bson.Binary{Subtype: bson.TypeBinaryUUID, Data: b})
	}
	return nil
}

// nextSeq allocates the next AutoField value of a model from the counters collection.
// The $inc is atomic on the server, so concurrent saves never get the same value.
func (db *DB) nextSeq(ctx context.Context, info *modelInfo) (int64, error) {
	return db.nextSeqN(ctx, info, 1)
}
