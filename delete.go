package modjo

import (
	"context"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Delete removes a model instance's document, by primary key. The order is: the
// BeforeDelete hook, the PreDelete signal, the delete, the PostDelete signal, the
// AfterDelete hook; an error from a Before hook or a PreDelete receiver cancels it.
//
// As in Django, deleting an instance whose document is already gone is not an error.
// Deleting an instance without a primary key is. The instance keeps its field values
// and its key but counts as new again, so a later Save writes it back as a new
// document (with the same key). Relations' on_delete cascades come with the relations
// issue.
func (db *DB) Delete(ctx context.Context, obj any) error {
	info, err := db.resolve("delete", obj)
	if err != nil {
		return err
	}
	meta := info.meta
	pk, set := meta.PKValue(obj)
	if !set && info.pk != pkComposite {
		return &opError{op: "delete", model: meta.Name, msg: "the instance cannot be deleted because its primary key is not set"}
	}
	if h, ok := obj.(model.BeforeDeleter); ok {
		if err := h.BeforeDelete(ctx); err != nil {
			return &opError{op: "delete", model: meta.Name, pk: formatPK(pk), msg: "BeforeDelete", err: err}
		}
	}
	if err := db.send(ctx, model.PreDelete, meta, obj, false, nil); err != nil {
		return &opError{op: "delete", model: meta.Name, pk: formatPK(pk), msg: "pre-delete receiver", err: err}
	}
	if _, err := info.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: pk}}); err != nil {
		return writeError("delete", info, pk, err)
	}
	if st := model.StateOf(obj); st != nil {
		st.Loaded = false
	}
	if err := db.send(ctx, model.PostDelete, meta, obj, false, nil); err != nil {
		return &opError{op: "delete", model: meta.Name, pk: formatPK(pk), msg: "post-delete receiver", err: err}
	}
	if h, ok := obj.(model.AfterDeleter); ok {
		if err := h.AfterDelete(ctx); err != nil {
			return &opError{op: "delete", model: meta.Name, pk: formatPK(pk), msg: "AfterDelete", err: err}
		}
	}
	return nil
}
