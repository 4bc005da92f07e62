class OtherRouter:
    """zoo_other lives on 'other' and only there; everything else on 'default'."""

    app = "zoo_other"

    def db_for_read(self, model, **hints):
        return "other" if model._meta.app_label == self.app else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == self.app:
            return db == "other"
        return db == "default"
