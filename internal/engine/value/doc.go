// Package value is the embedded server's in-memory model of BSON values.
//
// Documents are bson.D and arrays bson.A from the official driver; scalar values use the
// driver's Go types (float64, string, int32, int64, bool, nil for null, bson.ObjectID,
// bson.DateTime, bson.Decimal128, bson.Binary, bson.Regex, bson.Timestamp, bson.MinKey,
// bson.MaxKey, bson.Undefined, bson.DBPointer, bson.JavaScript, bson.Symbol,
// bson.CodeWithScope). Missing is a sentinel used only during evaluation for "no value";
// it is never stored.
//
// The package provides MongoDB's total order over values (Compare), its numeric rules
// (int32 overflows to int64, ints with doubles give doubles, any decimal gives decimal),
// and a fast codec between wire bytes and this model.
package value
