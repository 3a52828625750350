package modjo

import (
	"context"
	"errors"
	"time"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// insertMany inserts new instances of one model (pointers) with one ordered
// InsertMany, which the driver splits into batches: the insert path of
// QuerySet.BulkCreate. Each instance is prepared as a new one (defaults, auto_now_add,
// auto_now, milliseconds) and encoded once; keys are assigned as Save assigns them,
// AutoField values as one block taken from the counter in a single round trip. No hooks
// or signals run (Django's bulk_create sends none).
//
// On a write error the instances stored before the failing one keep their keys; the
// others, and all of them on any other error, are left without the keys assigned here.
func (db *DB) insertMany(ctx context.Context, info *modelInfo, objs []any) error {
	if len(objs) == 0 {
		return nil
	}
	meta := info.meta
	now := time.Now()
	assigned := make([]bool, len(objs))
	auto := 0
	for i, obj := range objs {
		_, set := meta.PKValue(obj)
		if !set && info.pk == pkChosen {
			return &opError{op: "bulk create", model: meta.Name, msg: "the primary key " + meta.PK.Name + " must be set"}
		}
		assigned[i] = !set && info.pk != pkComposite
		if err := meta.PrepareSave(obj, true, now); err != nil {
			return &opError{op: "bulk create", model: meta.Name, err: err}
		}
		if assigned[i] && info.pk == pkUUID {
			if err := info.ensurePK(obj); err != nil {
				return &opError{op: "bulk create", model: meta.Name, err: err}
			}
		}
		if assigned[i] && info.pk == pkAuto {
			auto++
		}
	}
	clear := func(from int) {
		for i := from; i < len(objs); i++ {
			if assigned[i] {
				info.clearPK(objs[i])
			}
		}
	}
	if auto > 0 {
		last, err := db.nextSeqN(ctx, info, int64(auto))
		if err != nil {
			clear(0)
			return err
		}
		next := last - int64(auto) + 1
		for i, obj := range objs {
			if assigned[i] {
				if err := meta.SetPK(obj, next); err != nil {
					clear(0)
					return &opError{op: "bulk create", model: meta.Name, err: err}
				}
				next++
			}
		}
	}
	docs := make([]bson.Raw, len(objs))
	dropped := make([]bool, len(objs))
	for i, obj := range objs {
		var err error
		if docs[i], dropped[i], err = info.insertDoc(obj, assigned[i]); err != nil {
			clear(0)
			return &opError{op: "bulk create", model: meta.Name, err: err}
		}
	}
	res, err := info.coll.InsertMany(ctx, docs)
	stored := len(objs)
	if err != nil {
		stored = 0
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 {
			stored = bwe.WriteErrors[0].Index
		}
	}
	for i := range stored {
		if dropped[i] && res != nil && i < len(res.InsertedIDs) {
			id, ok := res.InsertedIDs[i].(bson.ObjectID)
			if !ok {
				return &opError{op: "bulk create", model: meta.Name, msg: "the driver assigned a non-ObjectID _id"}
			}
			info.setObjectID(objs[i], id)
		}
		model.EnsureState(objs[i]).Loaded = true
	}
	if err != nil {
		clear(stored)
		return writeError("bulk create", info, nil, err)
	}
	return nil
}

// nextSeqN takes n consecutive AutoField values from the counter and returns the last.
func (db *DB) nextSeqN(ctx context.Context, info *modelInfo, n int64) (int64, error) {
	filter := bson.D{{Key: "_id", Value: info.meta.Collection}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}}}}
	var err error
	// Two first-ever upserts of the same counter can race; the loser gets a duplicate
	// key error and simply increments the counter the winner created.
	for range 3 {
		var raw bson.Raw
		raw, err = db.counters.FindOneAndUpdate(ctx, filter, update, counterUpsert).Raw()
		if err == nil {
			seq, ok := raw.Lookup("seq").AsInt64OK()
			if !ok {
				return 0, &opError{op: "save", model: info.meta.Name, msg: "the AutoField counter " + info.meta.Collection + " in " + CountersCollection + " holds a non-integer seq"}
			}
			return seq, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	return 0, &opError{op: "save", model: info.meta.Name, msg: "allocate AutoField value", err: err}
}
