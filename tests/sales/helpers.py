"""Small builders the sales tests share."""

from sales import services
from sales.models import Stage


def stage(pipeline, name) -> Stage:
    return pipeline.stages.get(name=name)


def new_deal(world, pipeline, **fields):
    fields.setdefault("title", "Eid bulk order")
    return services.create_deal(by=fields.pop("by", world.rep_a), pipeline=pipeline, **fields)
