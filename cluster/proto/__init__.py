"""Protobuf contract of the Mắt Thần front door (package matthan.v1) and its generated code."""
