"""Hand-written JSON Schemas of the Custom Vision Training API v3.3 shapes.

Written from the official swagger, keyed by operationId. Answers also require the
read-only fields the service always sends and the client reads; nulls are allowed
where the live service sends them (a token's fields, publishName, thumbnailUri).
"""

UUID = {
    "type": "string",
    "pattern": "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
}
TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)?$",
}
TEXT = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TEXT_MAP = {"type": "object", "additionalProperties": TEXT}


def nullable(schema: dict) -> dict:
    """Allow null beside a schema."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict, **limits: int) -> dict:
    """Describe a JSON array of one kind of item."""
    return {"type": "array", "items": items, **limits}


def enum(*values: str) -> dict:
    """Describe a string with a fixed set of values."""
    return {"type": "string", "enum": list(values)}


def shape(required: dict, optional: dict | None = None, *, closed=False) -> dict:
    """Describe a JSON object by its required and optional properties."""
    return {
        "type": "object",
        "required": list(required),
        "properties": required | (optional or {}),
        "additionalProperties": not closed,
    }


DOMAIN_TYPE = enum("Classification", "ObjectDetection")
CLASSIFICATION_TYPE = enum("Multiclass", "Multilabel")
TAG_TYPE = enum("Regular", "Negative", "GeneralProduct")
EXPORT_PLATFORMS = array(enum("CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK"))
IMAGE_STATUS = enum(
    "OK",
    "OKDuplicate",
    "ErrorSource",
    "ErrorImageFormat",
    "ErrorImageSize",
    "ErrorStorage",
    "ErrorLimitExceed",
    "ErrorTagLimitExceed",
    "ErrorRegionLimitExceed",
    "ErrorUnknown",
    "ErrorNegativeAndRegularTagOnSameImage",
)

DOMAIN = shape(
    {"id": UUID, "name": TEXT, "type": DOMAIN_TYPE},
    {"exportable": BOOLEAN, "enabled": BOOLEAN},
)

PROJECT_SETTINGS = shape(
    {"domainId": UUID},
    {
        "classificationType": nullable(CLASSIFICATION_TYPE),
        "targetExportPlatforms": nullable(EXPORT_PLATFORMS),
        "useNegativeSet": nullable(BOOLEAN),
        "detectionParameters": nullable(TEXT),
        "imageProcessingSettings": nullable({"type": "object"}),
    },
)

PROJECT = shape(
    {
        "id": UUID,
        "name": TEXT,
        "description": nullable(TEXT),
        "settings": PROJECT_SETTINGS,
        "created": TIME,
        "lastModified": TIME,
        "status": enum("Succeeded", "Importing", "Failed"),
    },
    {"thumbnailUri": nullable(TEXT), "drModeEnabled": nullable(BOOLEAN)},
)

TAG = shape(
    {
        "id": UUID,
        "name": TEXT,
        "description": nullable(TEXT),
        "type": TAG_TYPE,
        "imageCount": INTEGER,
    }
)

ITERATION = shape(
    {
        "id": UUID,
        "name": TEXT,
        "status": TEXT,
        "created": TIME,
        "lastModified": TIME,
    },
    {
        "trainedAt": nullable(TIME),
        "projectId": UUID,
        "exportable": BOOLEAN,
        "exportableTo": nullable(EXPORT_PLATFORMS),
        "domainId": nullable(UUID),
        "classificationType": nullable(CLASSIFICATION_TYPE),
        "trainingType": enum("Regular", "Advanced"),
        "reservedBudgetInHours": INTEGER,
        "trainingTimeInMinutes": INTEGER,
        "publishName": nullable(TEXT),
        "originalPublishResourceId": nullable(TEXT),
    },
)

PREDICTION_QUERY_TAG = shape(
    {"id": UUID, "minThreshold": NUMBER, "maxThreshold": NUMBER}, closed=True
)

PREDICTION_QUERY_TOKEN = shape(
    {},
    {
        "session": nullable(TEXT),
        "continuation": nullable(TEXT),
        "maxCount": nullable(INTEGER),
        "orderBy": nullable(enum("Newest", "Oldest", "Suggested")),
        "tags": nullable(array(PREDICTION_QUERY_TAG, maxItems=2)),
        "iterationId": nullable(UUID),
        "startTime": nullable(TIME),
        "endTime": nullable(TIME),
        "application": nullable(TEXT),
    },
    closed=True,
)

BOUNDING_BOX = shape({"left": NUMBER, "top": NUMBER, "width": NUMBER, "height": NUMBER})

PREDICTION = shape(
    {"probability": NUMBER, "tagId": UUID},
    {
        "tagName": nullable(TEXT),
        "tagType": nullable(TAG_TYPE),
        "boundingBox": nullable(BOUNDING_BOX),
    },
)

STORED_IMAGE_PREDICTION = shape(
    {
        "id": UUID,
        "project": UUID,
        "iteration": UUID,
        "domain": UUID,
        "created": TIME,
        "predictions": array(PREDICTION),
    },
    {
        "resizedImageUri": nullable(TEXT),
        "thumbnailUri": nullable(TEXT),
        "originalImageUri": nullable(TEXT),
    },
)

PREDICTION_QUERY_RESULT = shape(
    {"token": PREDICTION_QUERY_TOKEN, "results": array(STORED_IMAGE_PREDICTION)}
)

REGION = shape(
    {
        "tagId": UUID,
        "left": NUMBER,
        "top": NUMBER,
        "width": NUMBER,
        "height": NUMBER,
    },
    closed=True,
)

IMAGE_ID_CREATE_ENTRY = shape(
    {"id": UUID},
    {"tagIds": array(UUID, maxItems=100), "regions": array(REGION, maxItems=300)},
    closed=True,
)

IMAGE_ID_CREATE_BATCH = shape(
    {"images": array(IMAGE_ID_CREATE_ENTRY, minItems=1, maxItems=64)},
    {
        "tagIds": array(UUID, maxItems=20),
        "metadata": nullable(TEXT_MAP | {"maxProperties": 10}),
    },
    closed=True,
)

IMAGE_TAG = shape({"tagId": UUID}, {"tagName": TEXT, "created": TIME})

IMAGE_REGION = shape(
    {
        "tagId": UUID,
        "left": NUMBER,
        "top": NUMBER,
        "width": NUMBER,
        "height": NUMBER,
    },
    {"regionId": UUID, "tagName": TEXT, "created": TIME},
)

IMAGE = shape(
    {"id": UUID, "created": TIME},
    {
        "width": INTEGER,
        "height": INTEGER,
        "resizedImageUri": nullable(TEXT),
        "thumbnailUri": nullable(TEXT),
        "originalImageUri": nullable(TEXT),
        "tags": nullable(array(IMAGE_TAG)),
        "regions": nullable(array(IMAGE_REGION)),
        "metadata": nullable(TEXT_MAP),
    },
)

IMAGE_CREATE_RESULT = shape(
    {"sourceUrl": TEXT, "status": IMAGE_STATUS}, {"image": nullable(IMAGE)}
)

IMAGE_CREATE_SUMMARY = shape(
    {"isBatchSuccessful": BOOLEAN, "images": array(IMAGE_CREATE_RESULT)}
)

CUSTOM_VISION_ERROR = shape({"code": TEXT, "message": TEXT})

GATEWAY_ERROR = shape({"error": CUSTOM_VISION_ERROR})

ERROR = {"anyOf": [CUSTOM_VISION_ERROR, GATEWAY_ERROR]}

REQUEST_BODIES = {
    "QueryPredictions": PREDICTION_QUERY_TOKEN,
    "CreateImagesFromPredictions": IMAGE_ID_CREATE_BATCH,
}

# None: the answer has no JSON body (204, or image bytes).
ANSWERS = {
    "GetProjects": array(PROJECT),
    "GetProject": PROJECT,
    "GetDomains": array(DOMAIN),
    "GetDomain": DOMAIN,
    "GetTags": array(TAG),
    "GetIterations": array(ITERATION),
    "QueryPredictions": PREDICTION_QUERY_RESULT,
    "CreateImagesFromPredictions": IMAGE_CREATE_SUMMARY,
    "DeletePrediction": None,
    "GetTaggedImages": array(IMAGE),
    "GetTaggedImageCount": INTEGER | {"minimum": 0},
    "GetImagesByIds": array(IMAGE),
    "GetArtifact": None,
}
