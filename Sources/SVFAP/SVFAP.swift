public enum SVFAPInfo {}
