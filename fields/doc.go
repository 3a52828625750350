// Package fields holds modjo's field kinds — the Django field a Go type maps to and how
// it is stored in BSON — together with the helper types some kinds need (Date,
// TimeOfDay, JSON, Polymorphic) and the validators fields run (email, URL, slug, IP
// address, and named validators registered with RegisterValidator).
//
// Package model decides a field's kind from its Go type and tag when a model is
// registered; this package only names the kinds and provides their values and checks.
//
// # Go type to field kind
//
//	string                      CharField (with max_length) or TextField
//	string + email/url/slug/ip  EmailField, URLField, SlugField, GenericIPAddressField
//	int8, int16                 SmallIntegerField           stored int32
//	int32                       IntegerField                stored int32
//	int, int64                  BigIntegerField             stored int64
//	uint8, uint16               PositiveSmallIntegerField   stored int32
//	uint32                      PositiveIntegerField        stored int64
//	float32, float64            FloatField                  stored double
//	bson.Decimal128, apd.Decimal DecimalField              stored decimal128
//	bool                        BooleanField
//	time.Time                   DateTimeField               BSON date (UTC, milliseconds)
//	Date                        DateField                   BSON date at midnight UTC
//	TimeOfDay                   TimeField                   int64 microseconds since midnight
//	time.Duration               DurationField               int64 nanoseconds
//	a [16]byte type (UUID)      UUIDField                   binary subtype 4
//	[]byte                      BinaryField                 binary subtype 0
//	bson.ObjectID               ObjectIdField               objectId
//	map[string]any, any, JSON   JSONField                   any BSON value
//	[]T                         ArrayField                  array
//	struct embedding model.Embedded            EmbeddedModelField       sub-document
//	[]struct embedding model.Embedded          EmbeddedModelArrayField  array of sub-documents
//	Polymorphic                 PolymorphicEmbeddedModelField  sub-document with a "_label" key
//
// A signed integer with min_value ≥ 0 is the Positive variant of its size. Integer
// primary keys are AutoFields (SmallAutoField, AutoField, BigAutoField), and the
// ObjectID of model.Model is an ObjectIdAutoField.
package fields
