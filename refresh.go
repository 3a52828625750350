package modjo

import (
	"context"
	"errors"
	"reflect"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Refresh reloads a model instance from its stored document, by primary key, as
// Django's refresh_from_db: every model field is overwritten (a key missing from the
// document leaves the field's zero value), keys the model does not declare are kept for
// the next Save, and deferred fields are loaded. Struct fields that are not model fields
// (tagged "-") keep their values. When the document is gone it returns an error
// wrapping ErrDoesNotExist and leaves the instance unchanged; on a decoding error too.
func (db *DB) Refresh(ctx context.Context, obj any) error {
	info, err := db.resolve("refresh", obj)
	if err != nil {
		return err
	}
	meta := info.meta
	pk, set := meta.PKValue(obj)
	if !set && info.pk != pkComposite {
		return &opError{op: "refresh", model: meta.Name, msg: "the instance has no primary key"}
	}
	raw, err := info.coll.FindOne(ctx, bson.D{{Key: "_id", Value: pk}}).Raw()
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return &opError{op: "refresh", model: meta.Name, pk: formatPK(pk), sentinel: model.ErrDoesNotExist}
		}
		return &opError{op: "refresh", model: meta.Name, pk: formatPK(pk), err: err}
	}
	// Decoding into a fresh instance and copying its model fields over leaves obj
	// untouched on error, and leaves alone the struct fields that are not model fields
	// (tagged "-"), as Django's refresh_from_db only reloads fields.
	fresh := meta.New()
	if err := meta.Decode(raw, fresh); err != nil {
		return &opError{op: "refresh", model: meta.Name, pk: formatPK(pk), err: err}
	}
	dst, src := reflect.ValueOf(obj).Elem(), reflect.ValueOf(fresh).Elem()
	for _, f := range meta.Fields {
		if f.Index != nil {
			dst.FieldByIndex(f.Index).Set(src.FieldByIndex(f.Index))
		}
	}
	st := model.EnsureState(obj)
	if fst := model.StateOf(fresh); fst != nil {
		*st = *fst
	} else {
		*st = model.State{}
	}
	st.Loaded = true
	return nil
}
